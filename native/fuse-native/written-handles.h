// Wormhole: flushes the FUSE thread answers by itself, without a round trip to JS.
//
// close(2) sends a FLUSH for every descriptor, and most descriptors wrote nothing: every
// read-only open, and every file created empty (`touch`, an untar's empty files, lock
// files). For the pod a flush commits what was written through the handle; a handle
// nothing was written through since its last flush has nothing to commit. So, when the
// mount asks for it (`skipCleanFlushes`), the binding remembers the handles that received
// a WRITE or an FTRUNCATE since their last flush that went to JS, and answers the FLUSH of
// any other handle with 0 itself. A write marks its handle when it arrives, before JS sees
// it, and a flush unmarks it as it goes to JS: a write racing with that flush marks it again,
// so its bytes are committed by the next flush at the latest. RELEASE forgets the handle.
//
// The set is an open-addressing hash set of file handles (0 never is one: fuse-native
// treats fh 0 as "no handle"), grown by doubling; a handful of files are written at once.

typedef struct {
  pthread_mutex_t lock;
  uint64_t *slots; // 0: empty
  size_t capacity; // a power of two, or 0 before the first mark
  size_t count;
  int lost; // a mark failed (out of memory): every flush goes to JS from then on
} written_handles_t;

static void written_handles_init (written_handles_t *set) {
  pthread_mutex_init(&set->lock, NULL);
  set->slots = NULL;
  set->capacity = 0;
  set->count = 0;
  set->lost = 0;
}

static size_t written_handles_home (const written_handles_t *set, uint64_t fh) {
  return (size_t) ((fh * 0x9E3779B97F4A7C15ull) >> 32) & (set->capacity - 1);
}

/** The slot holding `fh`, or the empty slot where it would go. Needs capacity > count. */
static size_t written_handles_find (const written_handles_t *set, uint64_t fh) {
  size_t i = written_handles_home(set, fh);
  while (set->slots[i] != 0 && set->slots[i] != fh) i = (i + 1) & (set->capacity - 1);
  return i;
}

/** Doubles the table (16 slots at first); on allocation failure the set stays as it is. */
static int written_handles_grow (written_handles_t *set) {
  size_t capacity = set->capacity == 0 ? 16 : set->capacity * 2;
  uint64_t *slots = calloc(capacity, sizeof(uint64_t));
  if (slots == NULL) return 0;
  uint64_t *old = set->slots;
  size_t old_capacity = set->capacity;
  set->slots = slots;
  set->capacity = capacity;
  for (size_t i = 0; i < old_capacity; i++) {
    if (old[i] != 0) set->slots[written_handles_find(set, old[i])] = old[i];
  }
  free(old);
  return 1;
}

/** Remembers that `fh` was written through. */
static void written_handles_mark (written_handles_t *set, uint64_t fh) {
  if (fh == 0) return;
  pthread_mutex_lock(&set->lock);
  int ok = 1;
  if ((set->count + 1) * 2 > set->capacity) ok = written_handles_grow(set);
  if (ok) {
    size_t i = written_handles_find(set, fh);
    if (set->slots[i] == 0) {
      set->slots[i] = fh;
      set->count++;
    }
  } else {
    set->lost = 1;
  }
  pthread_mutex_unlock(&set->lock);
}

/**
 * Whether `fh` was written through since it was last taken; forgets it. (Linear probing:
 * later entries of its run move back into the gap.)
 */
static int written_handles_take (written_handles_t *set, uint64_t fh) {
  if (fh == 0) return 1; // no handle: let JS decide
  pthread_mutex_lock(&set->lock);
  int found = set->lost;
  if (set->capacity > 0) {
    size_t mask = set->capacity - 1;
    size_t gap = written_handles_find(set, fh);
    if (set->slots[gap] == fh) {
      found = 1;
      set->slots[gap] = 0;
      set->count--;
      for (size_t j = (gap + 1) & mask; set->slots[j] != 0; j = (j + 1) & mask) {
        size_t home = written_handles_home(set, set->slots[j]);
        // Move j's entry into the gap unless its home lies cyclically in (gap, j].
        int stays = gap <= j ? (gap < home && home <= j) : (gap < home || home <= j);
        if (!stays) {
          set->slots[gap] = set->slots[j];
          set->slots[j] = 0;
          gap = j;
        }
      }
    }
  }
  pthread_mutex_unlock(&set->lock);
  return found;
}
