// Wormhole's FUSE binding: libfuse 2's low-level API, driven from Node's event loop.
//
// Why not fuse-native (which this replaces): its high-level, multi-threaded design hands every
// request from a FUSE thread to the JS thread and the answer back, two thread wake-ups per
// request, plus libfuse's path tables. Measured on this project's 2-core machine
// (docs/performance.md, session 11), answering creates from memory cost the serving process
// 222-340 us of CPU per create through fuse-native against 64-70 us here.
//
// Here the JS thread reads /dev/fuse itself (a uv_poll on the channel's descriptor, made
// non-blocking) and libfuse decodes each request into one of the callbacks below, which
// pass it to one JS function. JS answers whenever it likes, with one of the reply functions;
// a request is identified by its fuse_req_t, passed to JS as a number. Node ids, paths,
// handles and every policy live in JS (src/fs/fuse-requests.ts and what it uses).
//
// Two things cannot run on the JS thread:
// - Cache invalidations (FUSE_NOTIFY_INVAL_INODE) must not be written from the path of a
//   request the kernel is waiting for, so a notifier thread writes them, and tells JS when
//   a sweep is done (uv_async).
// - Nothing else: every reply is a write(2) to /dev/fuse that does not block.
#define FUSE_USE_VERSION 26
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <fuse_kernel.h> // after stdint.h, which it needs
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

/** Requests as JS sees them (src/fs/fuse-binding.ts has the same numbers). */
enum {
  OP_LOOKUP = 1, OP_FORGET, OP_GETATTR, OP_SETATTR, OP_READLINK, OP_MKDIR, OP_UNLINK, OP_RMDIR,
  OP_SYMLINK, OP_RENAME, OP_LINK, OP_OPEN, OP_READ, OP_WRITE, OP_FLUSH, OP_RELEASE, OP_FSYNC,
  OP_OPENDIR, OP_READDIR, OP_RELEASEDIR, OP_FSYNCDIR, OP_STATFS, OP_ACCESS, OP_CREATE
};

/** Shared Float64Array slots: the caller of the request being delivered, and setattr's values. */
enum { ARG_UID, ARG_GID, ARG_PID, ARG_MODE, ARG_SET_UID, ARG_SET_GID, ARG_SIZE, ARG_ATIME, ARG_MTIME, ARG_COUNT };
/** Shared Float64Array slots JS fills before a reply that carries attributes. */
enum { ST_MODE, ST_UID, ST_GID, ST_SIZE, ST_ATIME, ST_MTIME, ST_CTIME, ST_NLINK, ST_BLOCKS, ST_BLKSIZE, ST_COUNT };
/** Flags of replyOpen/replyCreate. */
enum { OPEN_KEEP_CACHE = 1, OPEN_DIRECT_IO = 2 };
/** A FUSE_NOTIFY_INVAL_INODE that found no inode is retried this long (see `retry` in sweep). */
#define RETRY_FOR_NS 1000000000ull
#define RETRY_EVERY_NS 1000000ull
/**
 * The largest write the kernel sends in one request. libfuse 2 speaks protocol 7.19 and caps
 * writes at 128 KiB; Linux 4.20+ takes up to 256 pages per request when FUSE_INIT's reply
 * says so (FUSE_MAX_PAGES), which `channel_send` adds. A 1 GiB write is then 1,024 requests
 * instead of 8,192 (docs/performance.md, session 12).
 */
#define MAX_WRITE (1024 * 1024)
#define FUSE_MAX_PAGES_FLAG (1u << 22)

/** FUSE_INIT's reply as Linux reads it since protocol 7.28; libfuse 2 fills the first 24 bytes. */
struct init_reply {
  uint32_t major, minor, max_readahead, flags;
  uint16_t max_background, congestion_threshold;
  uint32_t max_write, time_gran;
  uint16_t max_pages, map_alignment;
  uint32_t flags2, unused[7];
};

/** Requests read per wake-up before other event-loop work gets a turn. */
#define BATCH 64

typedef struct {
  uint64_t *ids;
  size_t len, cap;
} id_list_t;

typedef struct {
  napi_env env;
  napi_ref handler;  // (op, req, nodeid, a, b, c, d) => void
  napi_ref on_swept; // (epoch) => void
  napi_ref resource;
  napi_async_context async_context;
  double *args;  // ARG_COUNT slots
  double *stat;  // ST_COUNT slots
  napi_ref args_ref, stat_ref;
  char *mountpoint;
  struct fuse_session *se;
  struct fuse_chan *kernel_ch; // fuse_mount's channel: owns the /dev/fuse descriptor
  struct fuse_chan *ch;        // ours, on the same descriptor (channel_receive, channel_send)
  uint64_t init_unique;        // FUSE_INIT from a kernel that offers FUSE_MAX_PAGES, until answered
  char *buf;         // the receive buffer: the memory of the ArrayBuffer `buf_ref`
  size_t bufsize;
  napi_ref buf_ref;  // kept for the session's life, as the session itself
  uv_poll_t poll;
  int polling;
  int unmounted;

  // The notifier (kernel cache invalidations).
  pthread_t notifier;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  id_list_t due;      // node ids to invalidate in the next sweep
  id_list_t may_retry; // ... of which these may not have an inode yet (just created)
  id_list_t pages_due; // node id, offset, node id, ...: cached pages from that offset on go too
  double due_epoch; // a JS number: it never wraps
  double swept_epoch;
  int sweep_due;
  int stopping;
  uv_async_t swept;
} session_t;

// ---- small helpers --------------------------------------------------------------------

static void list_push (id_list_t *l, uint64_t id) {
  if (l->len == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 64;
    l->ids = realloc(l->ids, l->cap * sizeof(uint64_t));
  }
  l->ids[l->len++] = id;
}

static int list_has (const id_list_t *l, uint64_t id) {
  for (size_t i = 0; i < l->len; i++) if (l->ids[i] == id) return 1;
  return 0;
}

static uint64_t now_ns (void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t) t.tv_sec * 1000000000ull + (uint64_t) t.tv_nsec;
}

static void to_timespec (double ms, struct timespec *t) {
  double sec = ms / 1000;
  t->tv_sec = (time_t) sec;
  if ((double) t->tv_sec > sec) t->tv_sec--; // floor for times before 1970
  t->tv_nsec = (long) ((ms - (double) t->tv_sec * 1000) * 1e6);
}

static double ms_of (const struct timespec *t) {
  return (double) t->tv_sec * 1000 + (double) t->tv_nsec / 1e6;
}

static fuse_req_t req_of (napi_env env, napi_value v) {
  double d;
  napi_get_value_double(env, v, &d);
  return (fuse_req_t) (uintptr_t) d;
}

static double number_of (napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

static void fill_stat (const session_t *s, fuse_ino_t ino, struct stat *st) {
  const double *v = s->stat;
  memset(st, 0, sizeof *st);
  st->st_ino = ino;
  st->st_mode = (mode_t) v[ST_MODE];
  st->st_uid = (uid_t) v[ST_UID];
  st->st_gid = (gid_t) v[ST_GID];
  st->st_size = (off_t) v[ST_SIZE];
  st->st_nlink = (nlink_t) v[ST_NLINK];
  st->st_blocks = (blkcnt_t) v[ST_BLOCKS];
  st->st_blksize = (blksize_t) v[ST_BLKSIZE];
  to_timespec(v[ST_ATIME], &st->st_atim);
  to_timespec(v[ST_MTIME], &st->st_mtim);
  to_timespec(v[ST_CTIME], &st->st_ctim);
}

// ---- requests to JS -------------------------------------------------------------------

/** Calls the JS handler; any values beyond `argc` are left undefined. */
static void deliver (fuse_req_t req, napi_value *extra, size_t extra_count, uint32_t op, fuse_ino_t ino) {
  session_t *s = fuse_req_userdata(req);
  napi_env env = s->env;
  const struct fuse_ctx *ctx = fuse_req_ctx(req);
  s->args[ARG_UID] = ctx->uid;
  s->args[ARG_GID] = ctx->gid;
  s->args[ARG_PID] = ctx->pid;

  napi_value argv[7], handler, recv, result;
  napi_create_uint32(env, op, &argv[0]);
  napi_create_double(env, (double) (uintptr_t) req, &argv[1]);
  napi_create_double(env, (double) ino, &argv[2]);
  napi_get_undefined(env, &recv);
  for (size_t i = 0; i < 4; i++) argv[3 + i] = i < extra_count ? extra[i] : recv;
  napi_get_reference_value(env, s->handler, &handler);
  if (napi_call_function(env, recv, handler, 7, argv, &result) != napi_ok) {
    // The handler catches everything it expects; anything else is a bug: crash loudly
    // rather than leave the kernel waiting for an answer forever.
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
}

static napi_value str (session_t *s, const char *v) {
  napi_value out;
  napi_create_string_utf8(s->env, v, NAPI_AUTO_LENGTH, &out);
  return out;
}

static napi_value num (session_t *s, double v) {
  napi_value out;
  napi_create_double(s->env, v, &out);
  return out;
}

#define S ((session_t *) fuse_req_userdata(req))

// Shapes shared by several requests: a handle; open flags; a handle and a byte range; a
// handle and fsync's datasync flag.
static void deliver_fh (fuse_req_t req, uint32_t op, fuse_ino_t ino, struct fuse_file_info *fi) {
  napi_value a[] = { num(S, (double) fi->fh) };
  deliver(req, a, 1, op, ino);
}

static void deliver_flags (fuse_req_t req, uint32_t op, fuse_ino_t ino, struct fuse_file_info *fi) {
  napi_value a[] = { num(S, fi->flags) };
  deliver(req, a, 1, op, ino);
}

static void deliver_range (fuse_req_t req, uint32_t op, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  napi_value a[] = { num(S, (double) fi->fh), num(S, (double) size), num(S, (double) off) };
  deliver(req, a, 3, op, ino);
}

static void deliver_sync (fuse_req_t req, uint32_t op, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  napi_value a[] = { num(S, (double) fi->fh), num(S, datasync) };
  deliver(req, a, 2, op, ino);
}

static void ll_lookup (fuse_req_t req, fuse_ino_t parent, const char *name) {
  napi_value a[] = { str(S, name) };
  deliver(req, a, 1, OP_LOOKUP, parent);
}

static void ll_forget (fuse_req_t req, fuse_ino_t ino, unsigned long nlookup) {
  napi_value a[] = { num(S, (double) nlookup) };
  deliver(req, a, 1, OP_FORGET, ino);
  fuse_reply_none(req);
}

static void ll_getattr (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  napi_value a[] = { num(S, fi ? (double) fi->fh : 0) };
  deliver(req, a, 1, OP_GETATTR, ino);
}

static void ll_setattr (fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set, struct fuse_file_info *fi) {
  double *v = S->args;
  v[ARG_MODE] = attr->st_mode;
  v[ARG_SET_UID] = attr->st_uid;
  v[ARG_SET_GID] = attr->st_gid;
  v[ARG_SIZE] = (double) attr->st_size;
  v[ARG_ATIME] = ms_of(&attr->st_atim);
  v[ARG_MTIME] = ms_of(&attr->st_mtim);
  napi_value a[] = { num(S, to_set), num(S, fi ? (double) fi->fh : 0) };
  deliver(req, a, 2, OP_SETATTR, ino);
}

static void ll_readlink (fuse_req_t req, fuse_ino_t ino) {
  deliver(req, NULL, 0, OP_READLINK, ino);
}

static void ll_mkdir (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode) {
  napi_value a[] = { str(S, name), num(S, mode) };
  deliver(req, a, 2, OP_MKDIR, parent);
}

static void ll_unlink (fuse_req_t req, fuse_ino_t parent, const char *name) {
  napi_value a[] = { str(S, name) };
  deliver(req, a, 1, OP_UNLINK, parent);
}

static void ll_rmdir (fuse_req_t req, fuse_ino_t parent, const char *name) {
  napi_value a[] = { str(S, name) };
  deliver(req, a, 1, OP_RMDIR, parent);
}

static void ll_symlink (fuse_req_t req, const char *target, fuse_ino_t parent, const char *name) {
  napi_value a[] = { str(S, name), str(S, target) };
  deliver(req, a, 2, OP_SYMLINK, parent);
}

static void ll_rename (fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent, const char *newname) {
  napi_value a[] = { str(S, name), num(S, (double) newparent), str(S, newname) };
  deliver(req, a, 3, OP_RENAME, parent);
}

static void ll_link (fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname) {
  napi_value a[] = { num(S, (double) newparent), str(S, newname) };
  deliver(req, a, 2, OP_LINK, ino);
}

static void ll_open (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  deliver_flags(req, OP_OPEN, ino, fi);
}

static void ll_read (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  deliver_range(req, OP_READ, ino, size, off, fi);
}

static void ll_write (fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off, struct fuse_file_info *fi) {
  // The payload reaches JS as a view of the receive buffer, not a copy: a copy made here cost
  // a 128 KiB allocation and ~130,000 page faults per GiB written (docs/performance.md,
  // session 12). The next request is read into the same memory, so the view is valid only
  // during this call: JS copies what it keeps before it returns (MountOperations.write).
  napi_value receive_buffer, view;
  napi_get_reference_value(S->env, S->buf_ref, &receive_buffer);
  napi_create_typedarray(S->env, napi_uint8_array, size, receive_buffer, (size_t) (data - S->buf), &view);
  napi_value a[] = { num(S, (double) fi->fh), view, num(S, (double) off) };
  deliver(req, a, 3, OP_WRITE, ino);
}

static void ll_flush (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  deliver_fh(req, OP_FLUSH, ino, fi);
}

static void ll_release (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  deliver_fh(req, OP_RELEASE, ino, fi);
}

static void ll_fsync (fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  deliver_sync(req, OP_FSYNC, ino, datasync, fi);
}

static void ll_opendir (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  deliver_flags(req, OP_OPENDIR, ino, fi);
}

static void ll_readdir (fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
  deliver_range(req, OP_READDIR, ino, size, off, fi);
}

static void ll_releasedir (fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  deliver_fh(req, OP_RELEASEDIR, ino, fi);
}

static void ll_fsyncdir (fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi) {
  deliver_sync(req, OP_FSYNCDIR, ino, datasync, fi);
}

static void ll_statfs (fuse_req_t req, fuse_ino_t ino) {
  deliver(req, NULL, 0, OP_STATFS, ino);
}

static void ll_access (fuse_req_t req, fuse_ino_t ino, int mask) {
  napi_value a[] = { num(S, mask) };
  deliver(req, a, 1, OP_ACCESS, ino);
}

static void ll_create (fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, struct fuse_file_info *fi) {
  napi_value a[] = { str(S, name), num(S, mode), num(S, fi->flags) };
  deliver(req, a, 3, OP_CREATE, parent);
}

#undef S

static void ll_init (void *userdata, struct fuse_conn_info *conn) {
  // Writes larger than a page in one request (up to MAX_WRITE, see channel_send).
  conn->want |= FUSE_CAP_BIG_WRITES;
}

// ---- the channel ----------------------------------------------------------------------
// libfuse's kernel channel, but for FUSE_INIT: a kernel that offers FUSE_MAX_PAGES is told
// to send writes of up to MAX_WRITE, which libfuse 2 cannot ask for.

static int channel_receive (struct fuse_chan **chp, char *buf, size_t size) {
  struct fuse_chan *ch = *chp;
  session_t *s = fuse_chan_data(ch);
  struct fuse_session *se = fuse_chan_session(ch);
  ssize_t res;
  do res = read(fuse_chan_fd(ch), buf, size); while (res == -1 && errno == ENOENT); // ENOENT: interrupted, safe to retry
  int err = errno;
  if (fuse_session_exited(se)) return 0;
  if (res == -1) {
    if (err == ENODEV) { // unmounted
      fuse_session_exit(se);
      return 0;
    }
    if (err != EINTR && err != EAGAIN) perror("wormhole-fuse: reading /dev/fuse");
    return -err;
  }
  if ((size_t) res < sizeof(struct fuse_in_header)) return -EIO;
  const struct fuse_in_header *in = (const void *) buf;
  if (in->opcode == FUSE_INIT && (size_t) res >= sizeof *in + sizeof(struct fuse_init_in)) {
    const struct fuse_init_in *init = (const void *) (in + 1);
    if (init->flags & FUSE_MAX_PAGES_FLAG) s->init_unique = in->unique;
  }
  return (int) res;
}

static int channel_send (struct fuse_chan *ch, const struct iovec iov[], size_t count) {
  if (iov == NULL) return 0;
  session_t *s = fuse_chan_data(ch);
  struct fuse_out_header header;
  struct init_reply init;
  struct iovec patched[2];
  if (s->init_unique != 0 && count == 2 && iov[0].iov_len == sizeof header && iov[1].iov_len <= sizeof init) {
    memcpy(&header, iov[0].iov_base, sizeof header);
    if (header.unique == s->init_unique && header.error == 0) {
      s->init_unique = 0;
      memset(&init, 0, sizeof init);
      memcpy(&init, iov[1].iov_base, iov[1].iov_len);
      init.flags |= FUSE_MAX_PAGES_FLAG;
      init.max_pages = MAX_WRITE / sysconf(_SC_PAGESIZE);
      init.max_write = MAX_WRITE;
      header.len = sizeof header + sizeof init;
      patched[0] = (struct iovec) { &header, sizeof header };
      patched[1] = (struct iovec) { &init, sizeof init };
      iov = patched;
    }
  }
  if (writev(fuse_chan_fd(ch), iov, count) == -1) {
    int err = errno;
    // ENOENT: the request was interrupted, and the kernel dropped it.
    if (!fuse_session_exited(fuse_chan_session(ch)) && err != ENOENT) perror("wormhole-fuse: writing /dev/fuse");
    return -err;
  }
  return 0;
}

/** The descriptor is the kernel channel's (closed by fuse_unmount). */
static void channel_destroy (struct fuse_chan *ch) {
  (void) ch;
}

static struct fuse_chan_ops channel_ops = { .receive = channel_receive, .send = channel_send, .destroy = channel_destroy };

static const struct fuse_lowlevel_ops operations = {
  .init = ll_init,
  .lookup = ll_lookup,
  .forget = ll_forget,
  .getattr = ll_getattr,
  .setattr = ll_setattr,
  .readlink = ll_readlink,
  .mkdir = ll_mkdir,
  .unlink = ll_unlink,
  .rmdir = ll_rmdir,
  .symlink = ll_symlink,
  .rename = ll_rename,
  .link = ll_link,
  .open = ll_open,
  .read = ll_read,
  .write = ll_write,
  .flush = ll_flush,
  .release = ll_release,
  .fsync = ll_fsync,
  .opendir = ll_opendir,
  .readdir = ll_readdir,
  .releasedir = ll_releasedir,
  .fsyncdir = ll_fsyncdir,
  .statfs = ll_statfs,
  .access = ll_access,
  .create = ll_create,
};

// ---- the event-loop side ---------------------------------------------------------------

static void stop_polling (session_t *s) {
  if (!s->polling) return;
  s->polling = 0;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *) &s->poll, NULL);
}

/** Reads and handles the requests waiting on /dev/fuse, in one callback scope (microtasks run once, after the batch). */
static void on_readable (uv_poll_t *handle, int status, int events) {
  session_t *s = handle->data;
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_value resource;
  napi_callback_scope callback_scope;
  napi_open_handle_scope(env, &scope);
  napi_get_reference_value(env, s->resource, &resource);
  napi_open_callback_scope(env, resource, s->async_context, &callback_scope);
  for (int i = 0; i < BATCH; i++) {
    struct fuse_chan *ch = s->ch;
    int res = fuse_chan_recv(&ch, s->buf, s->bufsize);
    if (res == -EINTR) continue;
    if (res <= 0) {
      // 0: the file system was unmounted (ENODEV). -EAGAIN: nothing more to read now.
      if (res == 0 || fuse_session_exited(s->se)) stop_polling(s);
      break;
    }
    napi_handle_scope request_scope;
    napi_open_handle_scope(env, &request_scope);
    fuse_session_process(s->se, s->buf, (size_t) res, ch);
    napi_close_handle_scope(env, request_scope);
  }
  napi_close_callback_scope(env, callback_scope);
  napi_close_handle_scope(env, scope);
}

// ---- the notifier ---------------------------------------------------------------------

static void *notifier_main (void *data) {
  session_t *s = data;
  id_list_t retry = { 0 };
  uint64_t *retry_until = NULL;
  size_t retry_cap = 0;
  pthread_mutex_lock(&s->lock);
  while (!s->stopping) {
    if (!s->sweep_due) {
      if (retry.len == 0) {
        pthread_cond_wait(&s->cond, &s->lock);
      } else {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_nsec += RETRY_EVERY_NS;
        if (t.tv_nsec >= 1000000000) { t.tv_sec++; t.tv_nsec -= 1000000000; }
        pthread_cond_timedwait(&s->cond, &s->lock, &t);
      }
    }
    if (s->stopping) break;
    id_list_t due = s->due, may_retry = s->may_retry, pages_due = s->pages_due;
    double epoch = s->due_epoch;
    int sweeping = s->sweep_due;
    s->due = (id_list_t) { 0 };
    s->may_retry = (id_list_t) { 0 };
    s->pages_due = (id_list_t) { 0 };
    s->sweep_due = 0;
    pthread_mutex_unlock(&s->lock);

    // Length 0: every cached page from the offset on, and the inode's attributes. No inode
    // (ENOENT) means nothing is cached.
    for (size_t i = 0; i + 1 < pages_due.len; i += 2) fuse_lowlevel_notify_inval_inode(s->ch, pages_due.ids[i], (off_t) pages_due.ids[i + 1], 0);
    uint64_t now = now_ns();
    for (size_t i = 0; i < due.len; i++) {
      int r = fuse_lowlevel_notify_inval_inode(s->ch, due.ids[i], -1, 0);
      if (r == -ENOENT && list_has(&may_retry, due.ids[i])) {
        if (retry.len == retry_cap) {
          retry_cap = retry_cap ? retry_cap * 2 : 64;
          retry_until = realloc(retry_until, retry_cap * sizeof(uint64_t));
        }
        retry_until[retry.len] = now + RETRY_FOR_NS;
        list_push(&retry, due.ids[i]);
      }
    }
    // A created node whose reply the kernel has not applied yet: once it has, the
    // invalidation finds it (retried every millisecond for up to a second).
    size_t kept = 0;
    for (size_t i = 0; i < retry.len; i++) {
      int r = fuse_lowlevel_notify_inval_inode(s->ch, retry.ids[i], -1, 0);
      if (r == -ENOENT && now < retry_until[i]) {
        retry.ids[kept] = retry.ids[i];
        retry_until[kept++] = retry_until[i];
      }
    }
    retry.len = kept;
    free(due.ids);
    free(may_retry.ids);
    free(pages_due.ids);

    pthread_mutex_lock(&s->lock);
    if (sweeping) {
      s->swept_epoch = epoch;
      uv_async_send(&s->swept);
    }
  }
  pthread_mutex_unlock(&s->lock);
  free(retry.ids);
  free(retry_until);
  return NULL;
}

static void on_swept (uv_async_t *handle) {
  session_t *s = handle->data;
  napi_env env = s->env;
  pthread_mutex_lock(&s->lock);
  double epoch = s->swept_epoch;
  pthread_mutex_unlock(&s->lock);
  napi_handle_scope scope;
  napi_value resource, fn, recv, arg, result;
  napi_callback_scope callback_scope;
  napi_open_handle_scope(env, &scope);
  napi_get_reference_value(env, s->resource, &resource);
  napi_open_callback_scope(env, resource, s->async_context, &callback_scope);
  napi_get_reference_value(env, s->on_swept, &fn);
  napi_get_undefined(env, &recv);
  napi_create_double(env, epoch, &arg);
  if (napi_call_function(env, recv, fn, 1, &arg, &result) != napi_ok) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_close_callback_scope(env, callback_scope);
  napi_close_handle_scope(env, scope);
}

// ---- JS API ----------------------------------------------------------------------------

#define ARGS(n) \
  size_t argc = n; \
  napi_value argv[n]; \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);

static session_t *session_of (napi_env env, napi_value v) {
  void *p = NULL;
  napi_get_value_external(env, v, &p);
  return p;
}

static char *string_of (napi_env env, napi_value v) {
  size_t len = 0;
  napi_get_value_string_utf8(env, v, NULL, 0, &len);
  char *out = malloc(len + 1);
  napi_get_value_string_utf8(env, v, out, len + 1, &len);
  return out;
}

static double *float64_data (napi_env env, napi_value v, size_t min_length) {
  napi_typedarray_type type;
  size_t length;
  void *data = NULL;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float64_array || length < min_length) return NULL;
  return data;
}

/**
 * mount(mountpoint, options, handler, onSwept, args: Float64Array, stat: Float64Array) -> session.
 * `options` is libfuse's -o string (fuse_mount and fuse_lowlevel_new each take theirs from it).
 */
static napi_value js_mount (napi_env env, napi_callback_info info) {
  ARGS(6)
  double *args = float64_data(env, argv[4], ARG_COUNT);
  double *stat = float64_data(env, argv[5], ST_COUNT);
  if (args == NULL || stat == NULL) {
    napi_throw_type_error(env, NULL, "mount: args and stat must be Float64Arrays of the binding's sizes");
    return NULL;
  }
  session_t *s = calloc(1, sizeof *s);
  s->env = env;
  s->mountpoint = string_of(env, argv[0]);
  char *options = string_of(env, argv[1]);
  char *fuse_argv[] = { "wormhole", "-o", options, NULL };
  struct fuse_args fargs = FUSE_ARGS_INIT(3, fuse_argv);

  // libfuse writes its reason to stderr; the caller adds what to do.
  s->kernel_ch = fuse_mount(s->mountpoint, &fargs);
  if (s->kernel_ch == NULL) {
    fuse_opt_free_args(&fargs);
    free(options);
    free(s->mountpoint);
    free(s);
    napi_throw_error(env, "EMOUNT", "libfuse could not mount (its reason is on stderr)");
    return NULL;
  }
  s->se = fuse_lowlevel_new(&fargs, &operations, sizeof operations, s);
  fuse_opt_free_args(&fargs);
  free(options);
  if (s->se == NULL) {
    fuse_unmount(s->mountpoint, s->kernel_ch);
    free(s->mountpoint);
    free(s);
    napi_throw_error(env, "EMOUNT", "libfuse rejected the mount options (its reason is on stderr)");
    return NULL;
  }
  // The kernel refuses to read a request into less than max_write plus the headers.
  s->bufsize = sysconf(_SC_PAGESIZE) + MAX_WRITE;
  s->ch = fuse_chan_new(&channel_ops, fuse_chan_fd(s->kernel_ch), s->bufsize, s);
  fuse_session_add_chan(s->se, s->ch);
  napi_value buf;
  napi_create_arraybuffer(env, s->bufsize, (void **) &s->buf, &buf);
  napi_create_reference(env, buf, 1, &s->buf_ref);

  napi_create_reference(env, argv[2], 1, &s->handler);
  napi_create_reference(env, argv[3], 1, &s->on_swept);
  napi_create_reference(env, argv[4], 1, &s->args_ref);
  napi_create_reference(env, argv[5], 1, &s->stat_ref);
  s->args = args;
  s->stat = stat;
  napi_value resource, name;
  napi_create_object(env, &resource);
  napi_create_reference(env, resource, 1, &s->resource);
  napi_create_string_utf8(env, "wormhole-fuse", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, resource, name, &s->async_context);

  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  int fd = fuse_chan_fd(s->ch);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  uv_poll_init(loop, &s->poll, fd);
  s->poll.data = s;
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  s->polling = 1;

  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->cond, NULL);
  uv_async_init(loop, &s->swept, on_swept);
  s->swept.data = s;
  uv_unref((uv_handle_t *) &s->swept); // the poll keeps the loop alive, not the notifier
  pthread_create(&s->notifier, NULL, notifier_main, s);

  napi_value out;
  napi_create_external(env, s, NULL, NULL, &out);
  return out;
}

/**
 * unmount(session): stops reading, stops the notifier and unmounts (lazily: a process still
 * inside the mount gets ENOTCONN). Replies to requests still open must not be sent after
 * this (JS drops them); their memory is libfuse's and is not reclaimed.
 */
static napi_value js_unmount (napi_env env, napi_callback_info info) {
  ARGS(1)
  session_t *s = session_of(env, argv[0]);
  if (s == NULL || s->unmounted) return NULL;
  s->unmounted = 1;
  stop_polling(s);
  pthread_mutex_lock(&s->lock);
  s->stopping = 1;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->notifier, NULL);
  uv_close((uv_handle_t *) &s->swept, NULL);
  fuse_session_remove_chan(s->ch);
  fuse_chan_destroy(s->ch);
  fuse_unmount(s->mountpoint, s->kernel_ch);
  fuse_session_destroy(s->se);
  napi_delete_reference(env, s->handler);
  napi_delete_reference(env, s->on_swept);
  napi_async_destroy(env, s->async_context);
  // The session struct itself stays: uv_close completes later, and it is small.
  return NULL;
}

/** Appends the numbers of the JS array `array` to `list`. */
static void push_all (napi_env env, napi_value array, id_list_t *list) {
  uint32_t n = 0;
  napi_get_array_length(env, array, &n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    napi_get_element(env, array, i, &v);
    list_push(list, (uint64_t) number_of(env, v));
  }
}

/**
 * sweep(session, nodeIds: number[], mayRetry: number[], dropPages: number[], epoch): the
 * notifier invalidates the kernel's attributes of every node id, and for each pair (node id,
 * offset) in `dropPages` the node's cached pages from that offset on, then calls
 * onSwept(epoch). Node ids in `mayRetry` (created, not named
 * by a request since) are tried again for a while if the kernel has no inode for them yet.
 */
static napi_value js_sweep (napi_env env, napi_callback_info info) {
  ARGS(5)
  session_t *s = session_of(env, argv[0]);
  if (s == NULL || s->unmounted) return NULL;
  double epoch = number_of(env, argv[4]);
  pthread_mutex_lock(&s->lock);
  push_all(env, argv[1], &s->due);
  push_all(env, argv[2], &s->may_retry);
  push_all(env, argv[3], &s->pages_due);
  s->due_epoch = epoch;
  s->sweep_due = 1;
  pthread_cond_signal(&s->cond);
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

static napi_value js_reply_err (napi_env env, napi_callback_info info) {
  ARGS(2)
  int32_t err = 0;
  napi_get_value_int32(env, argv[1], &err);
  fuse_reply_err(req_of(env, argv[0]), err);
  return NULL;
}

/** replyEntry(req, nodeId, entryTimeoutSec, attrTimeoutSec): attributes from `stat`; node id 0 is a negative entry. */
static napi_value js_reply_entry (napi_env env, napi_callback_info info) {
  ARGS(4)
  fuse_req_t req = req_of(env, argv[0]);
  struct fuse_entry_param e;
  memset(&e, 0, sizeof e);
  e.ino = (fuse_ino_t) number_of(env, argv[1]);
  e.entry_timeout = number_of(env, argv[2]);
  e.attr_timeout = number_of(env, argv[3]);
  if (e.ino != 0) fill_stat(fuse_req_userdata(req), e.ino, &e.attr);
  fuse_reply_entry(req, &e);
  return NULL;
}

static void set_open_flags (struct fuse_file_info *fi, uint32_t flags) {
  fi->keep_cache = (flags & OPEN_KEEP_CACHE) != 0;
  fi->direct_io = (flags & OPEN_DIRECT_IO) != 0;
}

/** replyCreate(req, nodeId, entryTimeoutSec, attrTimeoutSec, fh, openFlags): attributes from `stat`. */
static napi_value js_reply_create (napi_env env, napi_callback_info info) {
  ARGS(6)
  fuse_req_t req = req_of(env, argv[0]);
  struct fuse_entry_param e;
  struct fuse_file_info fi;
  uint32_t flags = 0;
  memset(&e, 0, sizeof e);
  memset(&fi, 0, sizeof fi);
  e.ino = (fuse_ino_t) number_of(env, argv[1]);
  e.entry_timeout = number_of(env, argv[2]);
  e.attr_timeout = number_of(env, argv[3]);
  fill_stat(fuse_req_userdata(req), e.ino, &e.attr);
  fi.fh = (uint64_t) number_of(env, argv[4]);
  napi_get_value_uint32(env, argv[5], &flags);
  set_open_flags(&fi, flags);
  fuse_reply_create(req, &e, &fi);
  return NULL;
}

/** replyAttr(req, nodeId, attrTimeoutSec): attributes from `stat`. */
static napi_value js_reply_attr (napi_env env, napi_callback_info info) {
  ARGS(3)
  fuse_req_t req = req_of(env, argv[0]);
  struct stat st;
  fill_stat(fuse_req_userdata(req), (fuse_ino_t) number_of(env, argv[1]), &st);
  fuse_reply_attr(req, &st, number_of(env, argv[2]));
  return NULL;
}

/** replyOpen(req, fh, openFlags) */
static napi_value js_reply_open (napi_env env, napi_callback_info info) {
  ARGS(3)
  struct fuse_file_info fi;
  uint32_t flags = 0;
  memset(&fi, 0, sizeof fi);
  fi.fh = (uint64_t) number_of(env, argv[1]);
  napi_get_value_uint32(env, argv[2], &flags);
  set_open_flags(&fi, flags);
  fuse_reply_open(req_of(env, argv[0]), &fi);
  return NULL;
}

/** replyData(req, buffer, length) */
static napi_value js_reply_data (napi_env env, napi_callback_info info) {
  ARGS(3)
  void *data = NULL;
  size_t size = 0;
  napi_get_buffer_info(env, argv[1], &data, &size);
  double length = number_of(env, argv[2]);
  if (length < (double) size) size = (size_t) length;
  fuse_reply_buf(req_of(env, argv[0]), data, size);
  return NULL;
}

/** replyWrite(req, count) */
static napi_value js_reply_write (napi_env env, napi_callback_info info) {
  ARGS(2)
  fuse_reply_write(req_of(env, argv[0]), (size_t) number_of(env, argv[1]));
  return NULL;
}

/** replyReadlink(req, target) */
static napi_value js_reply_readlink (napi_env env, napi_callback_info info) {
  ARGS(2)
  char *target = string_of(env, argv[1]);
  fuse_reply_readlink(req_of(env, argv[0]), target);
  free(target);
  return NULL;
}

/** replyStatfs(req, values: Float64Array [bsize, frsize, blocks, bfree, bavail, files, ffree, favail, fsid, flag, namemax]) */
static napi_value js_reply_statfs (napi_env env, napi_callback_info info) {
  ARGS(2)
  double *v = float64_data(env, argv[1], 11);
  if (v == NULL) {
    fuse_reply_err(req_of(env, argv[0]), EIO);
    return NULL;
  }
  struct statvfs st;
  memset(&st, 0, sizeof st);
  st.f_bsize = (unsigned long) v[0];
  st.f_frsize = (unsigned long) v[1];
  st.f_blocks = (fsblkcnt_t) v[2];
  st.f_bfree = (fsblkcnt_t) v[3];
  st.f_bavail = (fsblkcnt_t) v[4];
  st.f_files = (fsfilcnt_t) v[5];
  st.f_ffree = (fsfilcnt_t) v[6];
  st.f_favail = (fsfilcnt_t) v[7];
  st.f_fsid = (unsigned long) v[8];
  st.f_flag = (unsigned long) v[9];
  st.f_namemax = (unsigned long) v[10];
  fuse_reply_statfs(req_of(env, argv[0]), &st);
  return NULL;
}

/**
 * replyDirents(req, size, names: string[], types: number[], start) -> how many were sent.
 * Packs names[start..] (entry i's offset is i + 1, `types` holds each one's S_IFMT bits)
 * into at most `size` bytes.
 */
static napi_value js_reply_dirents (napi_env env, napi_callback_info info) {
  ARGS(5)
  fuse_req_t req = req_of(env, argv[0]);
  size_t size = (size_t) number_of(env, argv[1]);
  uint32_t count = 0, start = 0, sent = 0;
  napi_get_array_length(env, argv[2], &count);
  napi_get_value_uint32(env, argv[4], &start);
  char *buf = malloc(size);
  size_t used = 0;
  for (uint32_t i = start; i < count; i++) {
    napi_value v, t;
    napi_get_element(env, argv[2], i, &v);
    napi_get_element(env, argv[3], i, &t);
    char *name = string_of(env, v);
    struct stat st;
    memset(&st, 0, sizeof st);
    st.st_ino = 0xffffffff; // FUSE_UNKNOWN_INO: the kernel looks the name up when it needs one
    st.st_mode = (mode_t) number_of(env, t);
    size_t need = fuse_add_direntry(req, buf + used, size - used, name, &st, (off_t) i + 1);
    free(name);
    if (need > size - used) break;
    used += need;
    sent++;
  }
  fuse_reply_buf(req, buf, used);
  free(buf);
  napi_value out;
  napi_create_uint32(env, sent, &out);
  return out;
}

static napi_value init (napi_env env, napi_value exports) {
  napi_property_descriptor d[] = {
    { "mount", 0, js_mount, 0, 0, 0, napi_default, 0 },
    { "unmount", 0, js_unmount, 0, 0, 0, napi_default, 0 },
    { "sweep", 0, js_sweep, 0, 0, 0, napi_default, 0 },
    { "replyErr", 0, js_reply_err, 0, 0, 0, napi_default, 0 },
    { "replyEntry", 0, js_reply_entry, 0, 0, 0, napi_default, 0 },
    { "replyCreate", 0, js_reply_create, 0, 0, 0, napi_default, 0 },
    { "replyAttr", 0, js_reply_attr, 0, 0, 0, napi_default, 0 },
    { "replyOpen", 0, js_reply_open, 0, 0, 0, napi_default, 0 },
    { "replyData", 0, js_reply_data, 0, 0, 0, napi_default, 0 },
    { "replyWrite", 0, js_reply_write, 0, 0, 0, napi_default, 0 },
    { "replyReadlink", 0, js_reply_readlink, 0, 0, 0, napi_default, 0 },
    { "replyStatfs", 0, js_reply_statfs, 0, 0, 0, napi_default, 0 },
    { "replyDirents", 0, js_reply_dirents, 0, 0, 0, napi_default, 0 },
  };
  napi_define_properties(env, exports, sizeof d / sizeof d[0], d);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
