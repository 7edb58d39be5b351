// Wormhole: attributes the FUSE thread answers by itself, without a round trip to JS.
//
// With attr_timeout=0 and default_permissions, a create in /d is ten kernel requests: the
// attributes of "/" and of /d (permission checks, and the lookup that revalidates "d"), the
// negative lookup, CREATE, libfuse's fgetattr of the new file, the kernel's getattr of it
// (open's permission check), FLUSH and RELEASE. Directories change rarely, and a file just
// created has the attributes its CREATE answered until something else happens to it. So
// this cache keeps, by path:
// - a directory's attributes, filled from a getattr answer;
// - a new file's attributes, filled from its create answer.
//
// Exactness. JS bumps `epoch` (fuse.invalidateAttrCache()) in the same synchronous step as
// every change of what it would answer, except creating a file at a free name, which changes
// no other path's attributes. An entry is served only while the epoch it was filled at is
// current, and JS fills with the epoch it read *before* computing the attributes, so nothing
// computed before a change is served after it. Requests that can change a path's attributes
// without a namespace change (a write, a truncate, a flush or release of an open file...)
// drop that path's entry when they arrive, before JS sees them: every request other than a
// getattr forgets its paths. A fill is also dropped when a request about its path (or one
// sharing its slot) arrived after the request being answered did: JS may have computed the
// answer before it handled that request (`gen`, captured at arrival).

#define ATTR_CACHE_SLOTS 256
#define ATTR_CACHE_PATH_MAX 256

typedef struct {
  uint32_t epoch; // 0: empty (epochs start at 1)
  uint32_t gen;   // bumped by every forget of a path in this slot
  char path[ATTR_CACHE_PATH_MAX];
  struct stat stat;
} attr_cache_entry_t;

typedef struct {
  uint32_t epoch;
  pthread_mutex_t lock;
  attr_cache_entry_t slots[ATTR_CACHE_SLOTS];
} attr_cache_t;

static void attr_cache_init (attr_cache_t *cache) {
  pthread_mutex_init(&cache->lock, NULL);
  __atomic_store_n(&cache->epoch, 1, __ATOMIC_SEQ_CST);
}

/** Forgets every entry (they no longer match the epoch); returns the new epoch. */
static uint32_t attr_cache_invalidate (attr_cache_t *cache) {
  uint32_t next = __atomic_add_fetch(&cache->epoch, 1, __ATOMIC_SEQ_CST);
  if (next == 0) next = __atomic_add_fetch(&cache->epoch, 1, __ATOMIC_SEQ_CST); // 0 marks empty slots
  return next;
}

static attr_cache_entry_t *attr_cache_slot (attr_cache_t *cache, const char *path) {
  uint32_t hash = 2166136261u; // FNV-1a
  for (const char *c = path; *c; c++) hash = (hash ^ (uint8_t) *c) * 16777619u;
  return &cache->slots[hash % ATTR_CACHE_SLOTS];
}

/** Copies the attributes of `path` into `stat` if they are cached and current. */
static int attr_cache_get (attr_cache_t *cache, const char *path, struct stat *stat) {
  if (path == NULL || strlen(path) >= ATTR_CACHE_PATH_MAX) return 0;
  attr_cache_entry_t *slot = attr_cache_slot(cache, path);
  int hit = 0;
  pthread_mutex_lock(&cache->lock);
  if (slot->epoch != 0 && slot->epoch == __atomic_load_n(&cache->epoch, __ATOMIC_SEQ_CST) && strcmp(slot->path, path) == 0) {
    *stat = slot->stat;
    hit = 1;
  }
  pthread_mutex_unlock(&cache->lock);
  return hit;
}

/**
 * Called as a request about `path` arrives. One that may change the path (`changes`: every
 * request but a getattr) drops its entry first. Returns the slot's generation, which a fill
 * answering this request passes back to attr_cache_put. One hash and one lock per request.
 */
static uint32_t attr_cache_arrive (attr_cache_t *cache, const char *path, int changes) {
  if (path == NULL || strlen(path) >= ATTR_CACHE_PATH_MAX) return 0;
  attr_cache_entry_t *slot = attr_cache_slot(cache, path);
  pthread_mutex_lock(&cache->lock);
  if (changes) {
    slot->gen++;
    if (slot->epoch != 0 && strcmp(slot->path, path) == 0) slot->epoch = 0;
  }
  uint32_t gen = slot->gen;
  pthread_mutex_unlock(&cache->lock);
  return gen;
}

/**
 * Keeps attributes of `path` that JS computed when the epoch was `epoch`, for a request that
 * arrived when the slot's generation was `gen`.
 */
static void attr_cache_put (attr_cache_t *cache, const char *path, const struct stat *stat, uint32_t epoch, uint32_t gen) {
  if (path == NULL || strlen(path) >= ATTR_CACHE_PATH_MAX) return;
  attr_cache_entry_t *slot = attr_cache_slot(cache, path);
  pthread_mutex_lock(&cache->lock);
  if (epoch == __atomic_load_n(&cache->epoch, __ATOMIC_SEQ_CST) && gen == slot->gen) {
    strcpy(slot->path, path);
    slot->stat = *stat;
    slot->epoch = epoch;
  }
  pthread_mutex_unlock(&cache->lock);
}

/** Drops the entry of a request's second path (rename, link, symlink), if it has one. */
static void attr_cache_forget (attr_cache_t *cache, const char *path) {
  attr_cache_arrive(cache, path, 1);
}
