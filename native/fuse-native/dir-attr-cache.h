// Wormhole: directory attributes answered by the FUSE thread, without a round trip to JS.
//
// With attr_timeout=0 and default_permissions, the kernel asks for the attributes of "/" and
// of every parent directory for each path it walks (a permission check per component, plus
// the lookup that revalidates the name): a create in /d costs four such requests besides its
// own. Directories change rarely, so their attributes are kept here, by path.
//
// Exactness: JS bumps `epoch` (fuse.invalidateDirAttrs()) in the same synchronous step as
// every namespace change that may change a directory's attributes or what a path resolves
// to. An entry is served only while the epoch it was filled at is still the current one,
// and JS fills an entry with the epoch it saw *before* computing the attributes, so an answer
// computed before a change can never be served after it.

#define DIR_ATTR_SLOTS 256
#define DIR_ATTR_PATH_MAX 256

typedef struct {
  uint32_t epoch; // 0: empty (epochs start at 1)
  char path[DIR_ATTR_PATH_MAX];
  struct stat stat;
} dir_attr_entry_t;

typedef struct {
  uint32_t epoch;
  pthread_mutex_t lock;
  dir_attr_entry_t slots[DIR_ATTR_SLOTS];
} dir_attr_cache_t;

static void dir_attr_cache_init (dir_attr_cache_t *cache) {
  pthread_mutex_init(&cache->lock, NULL);
  __atomic_store_n(&cache->epoch, 1, __ATOMIC_SEQ_CST);
}

/** Forgets every entry (they no longer match the epoch); returns the new epoch. */
static uint32_t dir_attr_cache_invalidate (dir_attr_cache_t *cache) {
  uint32_t next = __atomic_add_fetch(&cache->epoch, 1, __ATOMIC_SEQ_CST);
  if (next == 0) next = __atomic_add_fetch(&cache->epoch, 1, __ATOMIC_SEQ_CST); // 0 marks empty slots
  return next;
}

static dir_attr_entry_t *dir_attr_slot (dir_attr_cache_t *cache, const char *path) {
  uint32_t hash = 2166136261u; // FNV-1a
  for (const char *c = path; *c; c++) hash = (hash ^ (uint8_t) *c) * 16777619u;
  return &cache->slots[hash % DIR_ATTR_SLOTS];
}

/** Copies the attributes of `path` into `stat` if they are cached and current. */
static int dir_attr_cache_get (dir_attr_cache_t *cache, const char *path, struct stat *stat) {
  if (strlen(path) >= DIR_ATTR_PATH_MAX) return 0;
  dir_attr_entry_t *slot = dir_attr_slot(cache, path);
  int hit = 0;
  pthread_mutex_lock(&cache->lock);
  if (slot->epoch != 0 && slot->epoch == __atomic_load_n(&cache->epoch, __ATOMIC_SEQ_CST) && strcmp(slot->path, path) == 0) {
    *stat = slot->stat;
    hit = 1;
  }
  pthread_mutex_unlock(&cache->lock);
  return hit;
}

/** Keeps a directory's attributes, computed by JS when the epoch was `epoch`. */
static void dir_attr_cache_put (dir_attr_cache_t *cache, const char *path, const struct stat *stat, uint32_t epoch) {
  if (!S_ISDIR(stat->st_mode) || strlen(path) >= DIR_ATTR_PATH_MAX) return;
  dir_attr_entry_t *slot = dir_attr_slot(cache, path);
  pthread_mutex_lock(&cache->lock);
  if (epoch == __atomic_load_n(&cache->epoch, __ATOMIC_SEQ_CST)) {
    strcpy(slot->path, path);
    slot->stat = *stat;
    slot->epoch = epoch;
  }
  pthread_mutex_unlock(&cache->lock);
}
