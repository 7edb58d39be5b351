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
// The set is a u64-map.h of file handles (0 never is one: fuse-native treats fh 0 as "no
// handle"); a handful of files are written at once.

#include "u64-map.h"

typedef struct {
  pthread_mutex_t lock;
  u64_map_t handles; // the value is unused
  int lost; // a mark failed (out of memory): every flush goes to JS from then on
} written_handles_t;

static void written_handles_init (written_handles_t *set) {
  pthread_mutex_init(&set->lock, NULL);
  u64_map_init(&set->handles);
  set->lost = 0;
}

/** Remembers that `fh` was written through. */
static void written_handles_mark (written_handles_t *set, uint64_t fh) {
  if (fh == 0) return;
  pthread_mutex_lock(&set->lock);
  if (!u64_map_put(&set->handles, fh, 1)) set->lost = 1;
  pthread_mutex_unlock(&set->lock);
}

/** Whether `fh` was written through since it was last taken; forgets it. */
static int written_handles_take (written_handles_t *set, uint64_t fh) {
  if (fh == 0) return 1; // no handle: let JS decide
  pthread_mutex_lock(&set->lock);
  int found = u64_map_remove(&set->handles, fh) || set->lost;
  pthread_mutex_unlock(&set->lock);
  return found;
}
