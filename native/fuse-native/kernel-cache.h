// Wormhole: the kernel may cache names and attributes, and never serves them stale.
//
// With every FUSE cache timeout at 0, a create two directories deep costs eleven kernel
// requests, most of them the attributes of the directories on its path (permission checks)
// and lookups that revalidate names the kernel already has. Letting the kernel keep them for
// `entry_timeout`/`attr_timeout` removes those, but the namespace also changes without
// kernel requests (another pod's changes, commits, conflict copies). libfuse 2's high-level
// API cannot drop what the kernel cached (`fuse_invalidate` is a stub; node ids are hidden),
// so this file puts its own channel between libfuse and /dev/fuse, which sees every request
// and every reply on the thread that handles it:
//
// - Attributes are cached from GETATTR and SETATTR replies: the inode exists in the kernel
//   then, so FUSE_NOTIFY_INVAL_INODE can reach it. Replies that may make a new inode (LOOKUP,
//   MKDIR, MKNOD, SYMLINK, LINK) go out with attr_valid 0: an invalidation sent before the
//   requester has made the inode finds nothing, and the kernel would then install what the
//   reply said. CREATE keeps its attributes (a create's own getattr is a sixth of its
//   requests), and is handled instead: until a request names the new node id, an
//   invalidation that finds no inode is sent again every millisecond (`created`, `unborn`).
//   No other request can reach a file the kernel is still creating (the directory is
//   locked), so only another pod's change in that window could be missed, and only that
//   long.
// - Node ids whose attributes the kernel may hold are remembered (`cached`) before the
//   reply is written. JS bumps the attribute epoch (attr-cache.h) in the same synchronous
//   step as every change of what getattr would answer (fuse.invalidateAttrCache()); then a
//   notifier thread invalidates every remembered node id. It is a separate thread because
//   a notification must not be written from the path of a request the kernel is waiting
//   for. The kernel drops a reply to a request that was sent before the invalidation (it
//   compares attribute versions), so a sweep also covers replies still in flight.
// - A reply computed while the epoch changed (the request arrived before the bump) is sent
//   with no timeouts at all, and only after the sweep for that epoch: a request that made a
//   change returns to its caller after the kernel forgot what the change made stale.
// - Names stay cached for entry_timeout, also after another pod deleted or replaced them.
//   Every question about such a name still reaches us by path (the libfuse node keeps its
//   path), so a GETATTR of a path that no longer exists, or whose type is no longer the one
//   the kernel was told, answers ESTALE, and an OPEN of a vanished path too. The kernel then
//   walks the path again with LOOKUP_REVAL, which revalidates every cached name on it, as
//   for NFS: `open(O_CREAT)` of a name another pod just deleted creates it.
//
// The receive and send functions are libfuse 2.9's kernel channel's, plus the bookkeeping.

#include <errno.h>
#include <sys/uio.h>
#include <fuse_kernel.h>

#include "u64-map.h"

typedef struct {
  attr_cache_t *attrs; // its epoch counts the changes
  struct fuse_chan *ch;
  pthread_mutex_t lock;
  pthread_cond_t due_cond;   // the notifier waits for a sweep to be due
  pthread_cond_t swept_cond; // replies wait for a sweep
  u64_map_t kinds;           // node id -> S_IFMT the kernel was last told; dropped at FORGET
  u64_map_t cached;          // node ids whose attributes the kernel may hold (value 0)
  u64_map_t created;         // node ids of CREATE replies no request has named yet
  u64_map_t unborn;          // created node ids an invalidation did not find -> retries so far
  uint32_t due;              // the epoch the latest sweep was asked for
  uint32_t swept;            // a sweep asked for at this epoch has finished
  int stopping;
  pthread_t notifier;
} kernel_cache_t;

/** The request this FUSE thread is handling: its reply goes out on the same thread. */
typedef struct {
  uint64_t unique;
  uint64_t nodeid;
  uint32_t opcode;
  uint32_t epoch; // when it arrived
} kernel_cache_request_t;

static __thread kernel_cache_request_t kernel_cache_current;

static int epoch_before (uint32_t a, uint32_t b) {
  return (int32_t) (a - b) < 0;
}

static uint32_t kernel_cache_epoch (kernel_cache_t *kc) {
  return __atomic_load_n(&kc->attrs->epoch, __ATOMIC_SEQ_CST);
}

/** Retries of an invalidation of a created node id that found no inode (1 ms apart). */
#define KERNEL_CACHE_UNBORN_RETRIES 3000

/**
 * Invalidates the attributes of every node id in `ids` (lock not held); a node id's value is
 * how often that already found no inode. Created node ids the kernel has not made an inode
 * for yet go (back) to `unborn` (lock taken for that).
 */
static void kernel_cache_invalidate (kernel_cache_t *kc, u64_map_t *ids) {
  for (size_t i = 0; i < ids->capacity; i++) {
    uint64_t nodeid = ids->keys[i];
    if (nodeid == 0) continue;
    // ENOENT: no inode. Evicted (nothing cached then), or a create's not made yet.
    if (fuse_lowlevel_notify_inval_inode(kc->ch, nodeid, -1, 0) != -ENOENT) continue;
    uint32_t unused, tries = ids->values[i] + 1;
    pthread_mutex_lock(&kc->lock);
    if (u64_map_get(&kc->created, nodeid, &unused)) {
      if (tries < KERNEL_CACHE_UNBORN_RETRIES) u64_map_put(&kc->unborn, nodeid, tries);
      else u64_map_remove(&kc->created, nodeid); // the kernel never made it: give up
    }
    pthread_mutex_unlock(&kc->lock);
  }
}

static void *kernel_cache_notifier (void *data) {
  kernel_cache_t *kc = (kernel_cache_t *) data;
  pthread_mutex_lock(&kc->lock);
  while (!kc->stopping) {
    if (kc->due == kc->swept) {
      if (kc->unborn.count == 0) {
        pthread_cond_wait(&kc->due_cond, &kc->lock);
      } else {
        struct timespec at;
        clock_gettime(CLOCK_REALTIME, &at);
        at.tv_nsec += 1000000;
        if (at.tv_nsec >= 1000000000) at.tv_sec++, at.tv_nsec -= 1000000000;
        pthread_cond_timedwait(&kc->due_cond, &kc->lock, &at);
      }
    }
    if (kc->stopping) break;
    int sweeping = kc->due != kc->swept;
    uint32_t target = kc->due;
    u64_map_t cached; // a retry round between sweeps touches `unborn` only
    u64_map_init(&cached);
    if (sweeping) {
      cached = kc->cached;
      u64_map_init(&kc->cached);
    }
    u64_map_t unborn = kc->unborn;
    u64_map_init(&kc->unborn);
    pthread_mutex_unlock(&kc->lock);
    // `cached` first: a node id in both goes back to `unborn` with its count from there.
    kernel_cache_invalidate(kc, &cached);
    kernel_cache_invalidate(kc, &unborn);
    u64_map_free(&cached);
    u64_map_free(&unborn);
    pthread_mutex_lock(&kc->lock);
    if (sweeping) {
      kc->swept = target;
      pthread_cond_broadcast(&kc->swept_cond);
    }
  }
  pthread_cond_broadcast(&kc->swept_cond);
  pthread_mutex_unlock(&kc->lock);
  return NULL;
}

static void kernel_cache_init (kernel_cache_t *kc, attr_cache_t *attrs) {
  kc->attrs = attrs;
  kc->ch = NULL;
  pthread_mutex_init(&kc->lock, NULL);
  pthread_cond_init(&kc->due_cond, NULL);
  pthread_cond_init(&kc->swept_cond, NULL);
  u64_map_init(&kc->kinds);
  u64_map_init(&kc->cached);
  u64_map_init(&kc->created);
  u64_map_init(&kc->unborn);
  kc->due = kc->swept = kernel_cache_epoch(kc);
  kc->stopping = 0;
}

/**
 * Bumps the attribute epoch (JS thread, in the step that changed the namespace); returns the
 * new epoch. A sweep is due unless the kernel holds no attributes with a timeout.
 */
static uint32_t kernel_cache_changed (kernel_cache_t *kc) {
  pthread_mutex_lock(&kc->lock);
  uint32_t epoch = attr_cache_invalidate(kc->attrs);
  if (kc->cached.count == 0 && kc->due == kc->swept) {
    kc->due = kc->swept = epoch;
    pthread_cond_broadcast(&kc->swept_cond);
  } else {
    kc->due = epoch;
    pthread_cond_signal(&kc->due_cond);
  }
  pthread_mutex_unlock(&kc->lock);
  return epoch;
}

/** The kernel dropped this inode (lock held): its next lookup makes a new one. */
static void kernel_cache_forget (kernel_cache_t *kc, uint64_t nodeid) {
  u64_map_remove(&kc->kinds, nodeid);
  u64_map_remove(&kc->created, nodeid);
  u64_map_remove(&kc->unborn, nodeid);
}

/** A request arrived on this thread (before libfuse handles it). */
static void kernel_cache_arrived (kernel_cache_t *kc, const char *buf, size_t len) {
  const struct fuse_in_header *in = (const struct fuse_in_header *) buf;
  kernel_cache_current.unique = in->unique;
  kernel_cache_current.nodeid = in->nodeid;
  kernel_cache_current.opcode = in->opcode;
  kernel_cache_current.epoch = kernel_cache_epoch(kc);
  int forget = in->opcode == FUSE_FORGET || in->opcode == FUSE_BATCH_FORGET;
  // (Read without the lock: a created node id was put before its reply was written, which
  // is before any request can name it.)
  if (!forget && __atomic_load_n(&kc->created.count, __ATOMIC_RELAXED) == 0) return;
  pthread_mutex_lock(&kc->lock);
  if (!forget) {
    // A request names this node: its inode exists, later invalidations will find it.
    if (u64_map_remove(&kc->created, in->nodeid)) u64_map_remove(&kc->unborn, in->nodeid);
  } else if (in->opcode == FUSE_FORGET) {
    kernel_cache_forget(kc, in->nodeid);
  } else if (len >= sizeof(*in) + sizeof(struct fuse_batch_forget_in)) {
    const struct fuse_batch_forget_in *batch = (const struct fuse_batch_forget_in *) (buf + sizeof(*in));
    const struct fuse_forget_one *one = (const struct fuse_forget_one *) (batch + 1);
    size_t room = (len - sizeof(*in) - sizeof(*batch)) / sizeof(*one);
    for (size_t i = 0; i < batch->count && i < room; i++) kernel_cache_forget(kc, one[i].nodeid);
  }
  pthread_mutex_unlock(&kc->lock);
}

/** Remembers that the kernel may cache `nodeid`'s attributes (lock held); 0 if out of memory. */
static int kernel_cache_remember (kernel_cache_t *kc, uint64_t nodeid) {
  return u64_map_put(&kc->cached, nodeid, 0);
}

static int kernel_cache_is_entry_reply (uint32_t opcode) {
  return opcode == FUSE_LOOKUP || opcode == FUSE_CREATE || opcode == FUSE_MKDIR || opcode == FUSE_MKNOD
      || opcode == FUSE_SYMLINK || opcode == FUSE_LINK;
}

/**
 * The reply to this thread's request is about to be written: set its timeouts, remember what
 * the kernel will cache, and wait for the sweep if the namespace changed since it arrived.
 */
static void kernel_cache_replying (kernel_cache_t *kc, const struct iovec *iov, size_t count) {
  const struct fuse_out_header *out = (const struct fuse_out_header *) iov[0].iov_base;
  kernel_cache_request_t *req = &kernel_cache_current;
  if (out->unique == 0 || out->unique != req->unique) return; // a notification, or not ours
  int entry = out->error == 0 && count >= 2 && kernel_cache_is_entry_reply(req->opcode) && iov[1].iov_len >= sizeof(struct fuse_entry_out);
  int attr = out->error == 0 && count >= 2 && (req->opcode == FUSE_GETATTR || req->opcode == FUSE_SETATTR) && iov[1].iov_len >= sizeof(struct fuse_attr_out);
  if (!entry && !attr && kernel_cache_epoch(kc) == req->epoch) return; // reads, writes...: nothing to do
  pthread_mutex_lock(&kc->lock);
  uint32_t now = kernel_cache_epoch(kc);
  int changed = now != req->epoch;
  if (entry) {
    struct fuse_entry_out *e = (struct fuse_entry_out *) iov[1].iov_base;
    if (changed) e->entry_valid = e->entry_valid_nsec = 0;
    // A created node id the notifier could not track must not have cached attributes.
    int keep = req->opcode == FUSE_CREATE && !changed && e->nodeid != 0
        && u64_map_put(&kc->created, e->nodeid, 1) && kernel_cache_remember(kc, e->nodeid);
    if (!keep) e->attr_valid = e->attr_valid_nsec = 0;
    if (e->nodeid != 0) u64_map_put(&kc->kinds, e->nodeid, e->attr.mode & S_IFMT);
  } else if (attr) {
    struct fuse_attr_out *a = (struct fuse_attr_out *) iov[1].iov_base;
    if (changed || !kernel_cache_remember(kc, req->nodeid)) a->attr_valid = a->attr_valid_nsec = 0;
    u64_map_put(&kc->kinds, req->nodeid, a->attr.mode & S_IFMT);
  }
  // Replies computed across a change go out after the kernel forgot what it made stale.
  while (changed && !kc->stopping && epoch_before(kc->swept, now)) pthread_cond_wait(&kc->swept_cond, &kc->lock);
  pthread_mutex_unlock(&kc->lock);
}

/**
 * A getattr's or open's answer for the kernel: ESTALE where the kernel asked about a node
 * whose path is gone or now names something of another type (see the top of this file).
 */
static int kernel_cache_answer (kernel_cache_t *kc, int res, const struct stat *stat) {
  kernel_cache_request_t *req = &kernel_cache_current;
  if (req->opcode == FUSE_OPEN) return res == -ENOENT ? -ESTALE : res;
  if (req->opcode != FUSE_GETATTR) return res;
  if (res == -ENOENT) return -ESTALE;
  if (res != 0 || stat == NULL) return res;
  uint32_t kind;
  pthread_mutex_lock(&kc->lock);
  int known = u64_map_get(&kc->kinds, req->nodeid, &kind);
  pthread_mutex_unlock(&kc->lock);
  return known && kind != (stat->st_mode & S_IFMT) ? -ESTALE : res;
}

// libfuse 2.9's kernel channel (fuse_kern_chan.c), with the hooks above.

static int kernel_cache_receive (struct fuse_chan **chp, char *buf, size_t size) {
  struct fuse_chan *ch = *chp;
  struct fuse_session *se = fuse_chan_session(ch);
  kernel_cache_t *kc = (kernel_cache_t *) fuse_chan_data(ch);
  for (;;) {
    ssize_t res = read(fuse_chan_fd(ch), buf, size);
    int err = errno;
    if (fuse_session_exited(se)) return 0;
    if (res == -1) {
      if (err == ENOENT) continue; // the request was interrupted: read the next one
      if (err == ENODEV) { // unmounted
        fuse_session_exit(se);
        return 0;
      }
      if (err != EINTR && err != EAGAIN) perror("fuse: reading device");
      return -err;
    }
    if ((size_t) res < sizeof(struct fuse_in_header)) {
      fprintf(stderr, "short read on fuse device\n");
      return -EIO;
    }
    kernel_cache_arrived(kc, buf, (size_t) res);
    return (int) res;
  }
}

static int kernel_cache_send (struct fuse_chan *ch, const struct iovec iov[], size_t count) {
  if (iov == NULL) return 0;
  kernel_cache_replying((kernel_cache_t *) fuse_chan_data(ch), iov, count);
  ssize_t res = writev(fuse_chan_fd(ch), iov, count);
  int err = errno;
  if (res == -1) {
    struct fuse_session *se = fuse_chan_session(ch);
    // ENOENT: the request was interrupted. ENODEV after unmount.
    if (!fuse_session_exited(se) && err != ENOENT) perror("fuse: writing device");
    return -err;
  }
  return 0;
}

static void kernel_cache_destroy (struct fuse_chan *ch) {
  int fd = fuse_chan_fd(ch);
  if (fd != -1) close(fd);
}

/**
 * Replaces the channel fuse_mount made by one with the hooks; starts the notifier. The new
 * channel owns a duplicate of the device descriptor, so the old one can be destroyed.
 */
static struct fuse_chan *kernel_cache_channel (kernel_cache_t *kc, struct fuse_chan *mounted) {
  struct fuse_chan_ops ops = { .receive = kernel_cache_receive, .send = kernel_cache_send, .destroy = kernel_cache_destroy };
  int fd = dup(fuse_chan_fd(mounted));
  if (fd == -1) return NULL;
  struct fuse_chan *ch = fuse_chan_new(&ops, fd, fuse_chan_bufsize(mounted), kc);
  if (ch == NULL) {
    close(fd);
    return NULL;
  }
  fuse_chan_destroy(mounted);
  kc->ch = ch;
  return ch;
}

static void kernel_cache_start (kernel_cache_t *kc) {
  pthread_create(&kc->notifier, NULL, kernel_cache_notifier, kc);
}

/** After the session loop ended: stops the notifier and releases waiting replies. */
static void kernel_cache_stop (kernel_cache_t *kc) {
  pthread_mutex_lock(&kc->lock);
  kc->stopping = 1;
  pthread_cond_broadcast(&kc->due_cond);
  pthread_cond_broadcast(&kc->swept_cond);
  pthread_mutex_unlock(&kc->lock);
  pthread_join(kc->notifier, NULL);
  u64_map_free(&kc->kinds);
  u64_map_free(&kc->cached);
  u64_map_free(&kc->created);
  u64_map_free(&kc->unborn);
}
