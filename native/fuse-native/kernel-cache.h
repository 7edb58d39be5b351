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
// - Attributes are cached only from GETATTR and SETATTR replies: the inode exists in the
//   kernel then, so FUSE_NOTIFY_INVAL_INODE can reach it. Replies that carry a new entry
//   (LOOKUP, CREATE, MKDIR, MKNOD, SYMLINK, LINK) go out with attr_valid 0: the inode they
//   create in the kernel could not be invalidated until the requester had made it.
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
  u64_map_t cached;          // node ids whose attributes the kernel may hold (value unused)
  int cached_lost;           // a node id could not be remembered: sweep is due regardless
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

static void *kernel_cache_notifier (void *data) {
  kernel_cache_t *kc = (kernel_cache_t *) data;
  pthread_mutex_lock(&kc->lock);
  for (;;) {
    while (!kc->stopping && kc->due == kc->swept) pthread_cond_wait(&kc->due_cond, &kc->lock);
    if (kc->stopping) break;
    uint32_t target = kc->due;
    u64_map_t sweep = kc->cached;
    u64_map_init(&kc->cached);
    kc->cached_lost = 0;
    pthread_mutex_unlock(&kc->lock);
    for (size_t i = 0; i < sweep.capacity; i++) {
      // ENOENT (the kernel evicted the inode meanwhile) is fine: nothing is cached for it.
      if (sweep.keys[i] != 0) fuse_lowlevel_notify_inval_inode(kc->ch, sweep.keys[i], -1, 0);
    }
    u64_map_free(&sweep);
    pthread_mutex_lock(&kc->lock);
    kc->swept = target;
    pthread_cond_broadcast(&kc->swept_cond);
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
  kc->cached_lost = 0;
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
  if (kc->cached.count == 0 && !kc->cached_lost && kc->due == kc->swept) {
    kc->due = kc->swept = epoch;
    pthread_cond_broadcast(&kc->swept_cond);
  } else {
    kc->due = epoch;
    pthread_cond_signal(&kc->due_cond);
  }
  pthread_mutex_unlock(&kc->lock);
  return epoch;
}

/** A request arrived on this thread (before libfuse handles it). */
static void kernel_cache_arrived (kernel_cache_t *kc, const char *buf, size_t len) {
  const struct fuse_in_header *in = (const struct fuse_in_header *) buf;
  kernel_cache_current.unique = in->unique;
  kernel_cache_current.nodeid = in->nodeid;
  kernel_cache_current.opcode = in->opcode;
  kernel_cache_current.epoch = kernel_cache_epoch(kc);
  if (in->opcode != FUSE_FORGET && in->opcode != FUSE_BATCH_FORGET) return;
  // The kernel dropped these inodes: their next lookup makes new ones.
  pthread_mutex_lock(&kc->lock);
  if (in->opcode == FUSE_FORGET) {
    u64_map_remove(&kc->kinds, in->nodeid);
  } else if (len >= sizeof(*in) + sizeof(struct fuse_batch_forget_in)) {
    const struct fuse_batch_forget_in *batch = (const struct fuse_batch_forget_in *) (buf + sizeof(*in));
    const struct fuse_forget_one *one = (const struct fuse_forget_one *) (batch + 1);
    size_t room = (len - sizeof(*in) - sizeof(*batch)) / sizeof(*one);
    for (size_t i = 0; i < batch->count && i < room; i++) u64_map_remove(&kc->kinds, one[i].nodeid);
  }
  pthread_mutex_unlock(&kc->lock);
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
    e->attr_valid = 0;
    e->attr_valid_nsec = 0;
    if (changed) e->entry_valid = e->entry_valid_nsec = 0;
    if (e->nodeid != 0) u64_map_put(&kc->kinds, e->nodeid, e->attr.mode & S_IFMT);
  } else if (attr) {
    struct fuse_attr_out *a = (struct fuse_attr_out *) iov[1].iov_base;
    if (changed) a->attr_valid = a->attr_valid_nsec = 0;
    if (a->attr_valid != 0 || a->attr_valid_nsec != 0) {
      if (!u64_map_put(&kc->cached, req->nodeid, 1)) kc->cached_lost = 1;
    }
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
}
