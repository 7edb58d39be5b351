// Wormhole: a map from non-zero 64-bit keys (file handles, node ids) to 32-bit values, for
// the FUSE threads' bookkeeping (written-handles.h, kernel-cache.h). Open addressing with
// linear probing, grown by doubling; removal shifts later entries of a run back into the gap,
// so lookups never meet tombstones. Not thread-safe: its users hold their own lock.

#ifndef WORMHOLE_U64_MAP_H
#define WORMHOLE_U64_MAP_H

#include <stdint.h>
#include <stdlib.h>

typedef struct {
  uint64_t *keys;   // 0: empty
  uint32_t *values;
  size_t capacity;  // a power of two, or 0 before the first put
  size_t count;
} u64_map_t;

static inline void u64_map_init (u64_map_t *map) {
  map->keys = NULL;
  map->values = NULL;
  map->capacity = 0;
  map->count = 0;
}

static inline void u64_map_free (u64_map_t *map) {
  free(map->keys);
  free(map->values);
  u64_map_init(map);
}

static inline size_t u64_map_home (const u64_map_t *map, uint64_t key) {
  return (size_t) ((key * 0x9E3779B97F4A7C15ull) >> 32) & (map->capacity - 1);
}

/** The slot holding `key`, or the empty slot where it would go. Needs capacity > count. */
static inline size_t u64_map_find (const u64_map_t *map, uint64_t key) {
  size_t i = u64_map_home(map, key);
  while (map->keys[i] != 0 && map->keys[i] != key) i = (i + 1) & (map->capacity - 1);
  return i;
}

/** Doubles the table (16 slots at first); on allocation failure the map stays as it is. */
static inline int u64_map_grow (u64_map_t *map) {
  size_t capacity = map->capacity == 0 ? 16 : map->capacity * 2;
  uint64_t *keys = calloc(capacity, sizeof(uint64_t));
  uint32_t *values = calloc(capacity, sizeof(uint32_t));
  if (keys == NULL || values == NULL) {
    free(keys);
    free(values);
    return 0;
  }
  u64_map_t old = *map;
  map->keys = keys;
  map->values = values;
  map->capacity = capacity;
  for (size_t i = 0; i < old.capacity; i++) {
    if (old.keys[i] == 0) continue;
    size_t j = u64_map_find(map, old.keys[i]);
    map->keys[j] = old.keys[i];
    map->values[j] = old.values[i];
  }
  free(old.keys);
  free(old.values);
  return 1;
}

/** Sets `key` (non-zero) to `value`. Returns 0 when out of memory (the map is unchanged). */
static inline int u64_map_put (u64_map_t *map, uint64_t key, uint32_t value) {
  if ((map->count + 1) * 2 > map->capacity && !u64_map_grow(map)) return 0;
  size_t i = u64_map_find(map, key);
  if (map->keys[i] == 0) {
    map->keys[i] = key;
    map->count++;
  }
  map->values[i] = value;
  return 1;
}

/** The value of `key` in `*value`; whether it is there. */
static inline int u64_map_get (const u64_map_t *map, uint64_t key, uint32_t *value) {
  if (map->capacity == 0 || key == 0) return 0;
  size_t i = u64_map_find(map, key);
  if (map->keys[i] == 0) return 0;
  *value = map->values[i];
  return 1;
}

/** Removes `key`; whether it was there. */
static inline int u64_map_remove (u64_map_t *map, uint64_t key) {
  if (map->capacity == 0 || key == 0) return 0;
  size_t mask = map->capacity - 1;
  size_t gap = u64_map_find(map, key);
  if (map->keys[gap] == 0) return 0;
  map->keys[gap] = 0;
  map->count--;
  for (size_t j = (gap + 1) & mask; map->keys[j] != 0; j = (j + 1) & mask) {
    size_t home = u64_map_home(map, map->keys[j]);
    // Move j's entry into the gap unless its home lies cyclically in (gap, j].
    int stays = gap <= j ? (gap < home && home <= j) : (gap < home || home <= j);
    if (!stays) {
      map->keys[gap] = map->keys[j];
      map->values[gap] = map->values[j];
      map->keys[j] = 0;
      gap = j;
    }
  }
  return 1;
}

#endif
