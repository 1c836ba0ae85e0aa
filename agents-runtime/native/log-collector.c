/*
 * sutazai-log-collector: the runtime's log collector as a small native program.
 *
 * It does exactly what agents-runtime/src/logs/log-collector.ts does (read that file's
 * header for why the FIFOs keep the children independent of the collector and the daemon)
 * and speaks the same control protocol (version 3) on the same socket, so the daemon's
 * client (log-collector-client.ts) drives either. Why a native program: the Node collector
 * costs one more Node heap on every host (about 11 MB proportional set size); this one
 * costs well under 1 MB, which is what lets the whole runtime fit the footprint budget.
 *
 * Same behaviour, line for line with the Node collector:
 *  - every instance's `<fifo dir>/<instance>.out|.err` is read non-blocking; each read (at
 *    most 64 KiB) is stamped with one clock reading, ISO 8601 UTC with milliseconds;
 *  - lines are cut at 16 KiB (MAX_LINE), a partial line is written after 500 ms of silence
 *    on its stream, at end of file, at a drain and at shutdown;
 *  - `<ISO time> <out|err> <text>` lines are appended (O_APPEND) to `<log dir>/<instance>.log`;
 *    a failed write drops its lines, counts them, and the next good write is preceded by a
 *    `sys` notice; the count reaches the daemons as {"op":"dropped",...} pushes;
 *  - before a write would take a file past maxFileBytes it is rotated by rename
 *    (.log.N shifted, keepFiles kept) and the directory is held under maxTotalBytes;
 *  - it exits when it has no instance left and no daemon connected (or 10 s after starting
 *    if no one ever connected), and at SIGTERM after writing what the FIFOs hold.
 *
 * Usage: sutazai-log-collector [...] FIFO_DIR LOG_DIR LIMITS_JSON (the last three arguments).
 * Hostile input: FIFO contents are bytes, never parsed; control lines are parsed by a bounded
 * JSON reader and anything unexpected in them is ignored, as JSON.parse failures are in Node.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PROTOCOL 3
#define MAX_LINE 16384
#define READ_BYTES 65536
#define OUT_BYTES (256 * 1024)
#define PARTIAL_FLUSH_MS 500
#define DROPPED_PUSH_MS 250
#define UNCLAIMED_EXIT_MS 10000
/* A control line longer than this is no request of ours: it is skipped. */
#define MAX_REQUEST 65536
/* A connection that reads none of its answers is dropped past this much unsent output. */
#define MAX_PENDING_OUT (4 * 1024 * 1024)
#define MAX_NAME 200
/* How long accepting pauses after it failed for want of descriptors. */
#define ACCEPT_PAUSE_MS 100

typedef struct {
  uint64_t max_file_bytes;
  uint64_t keep_files;
  uint64_t max_total_bytes;
} limits_t;

static limits_t limits = {10u * 1024 * 1024, 4, 512u * 1024 * 1024};

struct instance;

typedef struct {
  struct instance *owner;
  const char *tag;
  int fd;
  /* The unfinished line (partial_len bytes, allocated to that size): only while there is one. */
  unsigned char *partial;
  size_t partial_len;
  int64_t flush_at; /* monotonic ms; 0: no partial-line timer */
} stream_t;

typedef struct instance {
  char name[MAX_NAME + 1];
  char *log_path; /* allocated to its length: an instance costs what it holds, not PATH_MAX */
  int log_fd;
  uint64_t size;    /* the live file's size while log_fd is open */
  uint64_t dropped; /* lines refused and not yet reported by a notice */
  stream_t streams[2];
  struct instance *next;
} instance_t;

typedef struct {
  char name[MAX_NAME + 1];
  uint64_t count;
  int changed;
} dropped_t;

typedef struct conn {
  int fd;
  int daemon; /* said hello: gets the dropped-line pushes */
  char *in;
  size_t in_len;
  int skipping; /* inside a line longer than MAX_REQUEST */
  char *out;
  size_t out_len;
  int broken; /* its answers piled up unread: closed at the next flush */
  struct conn *next;
} conn_t;

static const char *fifo_dir;
static char log_dir[PATH_MAX];
static char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static int epoll_fd = -1;
static int server_fd = -1;
static int signal_fd = -1;
static instance_t *instances;
static size_t instance_count;
static conn_t *conns;
static size_t conn_count;
static dropped_t *dropped_totals;
static size_t dropped_len, dropped_cap;
static int64_t push_at;
static int64_t unclaimed_at;
static int claimed;
static uint64_t total_lines, total_bytes, rotations;

/* What each epoll registration is: the server, the signals, a connection or a FIFO reader. */
enum kind { K_SERVER = 1, K_SIGNAL, K_CONN, K_STREAM };
typedef struct {
  enum kind kind;
  void *ptr;
} watch_t;
static watch_t **watches; /* by descriptor */
static size_t watches_cap;

static unsigned char read_buf[READ_BYTES];
static unsigned char joined[MAX_LINE + READ_BYTES];
static unsigned char out_buf[OUT_BYTES];

static void complain(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("sutazai-log-collector: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/*
 * An errno as "text (NAME)". The text is the C library's, and musl and glibc word some
 * differently (EMFILE: "No file descriptors available" / "Too many open files"); the name is
 * the same whichever the collector was built with, for the operator and for the tests. One
 * static buffer: the collector is single-threaded and each complaint names one errno.
 */
static const char *errno_name(int e) {
  switch (e) {
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOSPC: return "ENOSPC";
    case EDQUOT: return "EDQUOT";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EEXIST: return "EEXIST";
    case ENOTDIR: return "ENOTDIR";
    case EISDIR: return "EISDIR";
    case EROFS: return "EROFS";
    case EIO: return "EIO";
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    case EADDRINUSE: return "EADDRINUSE";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EINTR: return "EINTR";
    case EBADF: return "EBADF";
    case ENXIO: return "ENXIO";
    default: return NULL;
  }
}

static const char *error_text(int e) {
  static char text[192];
  const char *name = errno_name(e);
  if (name != NULL) snprintf(text, sizeof text, "%s (%s)", strerror(e), name);
  else snprintf(text, sizeof text, "%s (errno %d)", strerror(e), e);
  return text;
}

static void *must_alloc(size_t bytes) {
  void *p = calloc(1, bytes);
  if (p == NULL) {
    complain("out of memory");
    _exit(1);
  }
  return p;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Date#toISOString: 2026-12-06T10:53:07.123Z (24 characters). */
static void iso_now(char out[32]) {
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
           tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

/* log-files.ts's INSTANCE_NAME: one path segment, no slash, no leading dot, at most 200 characters. */
static int valid_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > MAX_NAME) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)name[i];
    int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '@' ||
             c == ':' || c == '+' || c == '-' || (c == '.' && i > 0);
    if (!ok) return 0;
  }
  return 1;
}

static void watch(int fd, enum kind kind, void *ptr, uint32_t events) {
  if ((size_t)fd >= watches_cap) {
    size_t cap = watches_cap == 0 ? 256 : watches_cap;
    while (cap <= (size_t)fd) cap *= 2;
    watch_t **grown = realloc(watches, cap * sizeof *watches);
    if (grown == NULL) {
      complain("out of memory");
      _exit(1);
    }
    memset(grown + watches_cap, 0, (cap - watches_cap) * sizeof *watches);
    watches = grown;
    watches_cap = cap;
  }
  watch_t *w = must_alloc(sizeof *w);
  w->kind = kind;
  w->ptr = ptr;
  watches[fd] = w;
  struct epoll_event ev = {.events = events, .data.fd = fd};
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) complain("epoll_ctl: %s", error_text(errno));
}

static void unwatch(int fd) {
  epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, NULL);
  if ((size_t)fd < watches_cap) {
    free(watches[fd]);
    watches[fd] = NULL;
  }
}

/* ---- the log files (stamped-lines.ts's StampedLogFile, log-rotation.ts's rotateByRename and enforceTotalCap) ---- */

static char head[64];
static size_t head_len;
static char batch_stamp[32];
static size_t out_used, out_lines;
static uint64_t batch_lines, batch_dropped;
static int rotation_failed;

static void log_close(instance_t *in) {
  if (in->log_fd >= 0) close(in->log_fd);
  in->log_fd = -1;
}

/* An open that failed in this batch is not tried again for each of its lines (batch_begin clears it). */
static int open_failed;

static int log_open(instance_t *in) {
  if (in->log_fd >= 0) return in->log_fd;
  int fd = open(in->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    in->size = 0; /* no file open: the last one's size must not decide a rotation */
    open_failed = 1;
    return -1;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return -1;
  }
  in->size = (uint64_t)st.st_size;
  in->log_fd = fd;
  return fd;
}

static int write_all(instance_t *in, int fd, const void *data, size_t len) {
  const unsigned char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) return -1;
    p += n;
    len -= (size_t)n;
    in->size += (uint64_t)n;
  }
  return 0;
}

static void write_out(instance_t *in, const void *data, size_t len, uint64_t lines) {
  int fd = in->log_fd < 0 && open_failed ? -1 : log_open(in);
  int ok = fd >= 0;
  if (ok && in->dropped > 0) {
    char notice[256];
    int n = snprintf(notice, sizeof notice,
                     "\n%s sys [sutazai-runtime] %llu log lines dropped: could not write the log file (disk full?)\n",
                     batch_stamp, (unsigned long long)in->dropped);
    ok = write_all(in, fd, notice, (size_t)n) == 0;
  }
  if (ok) ok = write_all(in, fd, data, len) == 0;
  if (ok) {
    in->dropped = 0;
    return;
  }
  in->dropped += lines;
  batch_dropped += lines;
  /* What a write cut short left behind is not counted: the size is read again at the next open. */
  log_close(in);
}

static void flush_out(instance_t *in) {
  if (out_used == 0) return;
  size_t used = out_used;
  uint64_t lines = out_lines;
  out_used = 0;
  out_lines = 0;
  write_out(in, out_buf, used, lines);
}

static int path_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void rotated_path(char *out, const instance_t *in, uint64_t n) {
  snprintf(out, PATH_MAX, "%s.%llu", in->log_path, (unsigned long long)n);
}

/* rotateByRename: .log.N shifted up (the one at keepFiles dropped), the live file renamed to .log.1. */
static int rotate_by_rename(instance_t *in) {
  if (!path_exists(in->log_path)) return 0;
  if (limits.keep_files == 0) return unlink(in->log_path) == 0 || errno == ENOENT ? 0 : -1;
  char from[PATH_MAX], to[PATH_MAX];
  for (uint64_t n = limits.keep_files; n >= 1; n--) {
    rotated_path(from, in, n);
    if (!path_exists(from)) continue;
    if (n == limits.keep_files) {
      if (unlink(from) != 0 && errno != ENOENT) return -1;
    } else {
      rotated_path(to, in, n + 1);
      if (rename(from, to) != 0) return -1;
    }
  }
  rotated_path(to, in, 1);
  return rename(in->log_path, to);
}

typedef struct {
  char path[PATH_MAX];
  uint64_t size;
  double mtime_ms;
  size_t order;
  int live;
} entry_t;

static int older_first(const void *a, const void *b) {
  const entry_t *x = a, *y = b;
  if (x->mtime_ms != y->mtime_ms) return x->mtime_ms < y->mtime_ms ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

static int larger_first(const void *a, const void *b) {
  const entry_t *x = a, *y = b;
  if (x->size != y->size) return x->size > y->size ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* `<name>.log` (live) or `<name>.log.<digits>` (rotated). */
static int log_kind(const char *name) {
  size_t n = strlen(name);
  if (n >= 4 && strcmp(name + n - 4, ".log") == 0) return 1;
  size_t i = n;
  while (i > 0 && name[i - 1] >= '0' && name[i - 1] <= '9') i--;
  if (i == n || i < 5) return 0;
  return strncmp(name + i - 5, ".log.", 5) == 0 ? 2 : 0;
}

/* enforceTotalCap: rotated files oldest first, then the largest live files truncated, until under maxTotalBytes. */
static void enforce_total_cap(void) {
  DIR *dir = opendir(log_dir);
  if (dir == NULL) return;
  entry_t *entries = NULL;
  size_t len = 0, cap = 0;
  uint64_t total = 0;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    int kind = log_kind(de->d_name);
    if (kind == 0) continue;
    if (len == cap) {
      cap = cap == 0 ? 64 : cap * 2;
      entry_t *grown = realloc(entries, cap * sizeof *entries);
      if (grown == NULL) break;
      entries = grown;
    }
    entry_t *e = &entries[len];
    if (snprintf(e->path, sizeof e->path, "%s/%s", log_dir, de->d_name) >= (int)sizeof e->path) continue;
    struct stat st;
    if (stat(e->path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    e->size = (uint64_t)st.st_size;
    e->mtime_ms = (double)st.st_mtim.tv_sec * 1000.0 + (double)st.st_mtim.tv_nsec / 1e6;
    e->live = kind == 1;
    e->order = len;
    total += e->size;
    len++;
  }
  closedir(dir);
  qsort(entries, len, sizeof *entries, older_first);
  for (size_t i = 0; i < len && total > limits.max_total_bytes; i++) {
    if (entries[i].live) continue;
    unlink(entries[i].path);
    total -= entries[i].size;
  }
  qsort(entries, len, sizeof *entries, larger_first);
  for (size_t i = 0; i < len && total > limits.max_total_bytes; i++) {
    if (!entries[i].live) continue;
    if (truncate(entries[i].path, 0) != 0) break;
    total -= entries[i].size;
  }
  free(entries);
}

static void rotate(instance_t *in) {
  log_close(in);
  if (rotate_by_rename(in) == 0) {
    rotations++;
    enforce_total_cap(); /* its failures: the daemon's rotator tries again within a second and reports why */
  } else {
    rotation_failed = 1;
  }
  log_open(in);
}

static void append_line(instance_t *in, const unsigned char *data, size_t len) {
  batch_lines++;
  if (in->log_fd < 0 && !open_failed) log_open(in); /* the size decides rotation */
  size_t need = head_len + len + 1;
  if (out_used > 0 && out_used + need > OUT_BYTES) flush_out(in);
  /* No file open, no size known: no rotation. */
  if (in->log_fd >= 0 && !rotation_failed && in->size + out_used > 0 && in->size + out_used + need > limits.max_file_bytes) {
    flush_out(in);
    rotate(in);
  }
  memcpy(out_buf + out_used, head, head_len);
  memcpy(out_buf + out_used + head_len, data, len);
  out_buf[out_used + need - 1] = '\n';
  out_used += need;
  out_lines++;
}

static void batch_begin(const char *stamp, const char *tag) {
  snprintf(batch_stamp, sizeof batch_stamp, "%s", stamp);
  head_len = (size_t)snprintf(head, sizeof head, "%s %s ", stamp, tag);
  batch_lines = 0;
  batch_dropped = 0;
  rotation_failed = 0;
  open_failed = 0;
}

static void count_dropped(const char *name, uint64_t lines);

static void batch_end(instance_t *in) {
  flush_out(in);
  if (batch_dropped > 0) count_dropped(in->name, batch_dropped);
  total_lines += batch_lines;
}

/* ---- lines (stamped-lines.ts's LineSplitter) ---- */

/* Hands each line of data[start, len) to the log, cut at MAX_LINE; returns where the unfinished rest begins. */
static size_t scan(instance_t *in, const unsigned char *data, size_t start, size_t len) {
  for (;;) {
    const unsigned char *nl = memchr(data + start, '\n', len - start);
    size_t end = nl == NULL ? len : (size_t)(nl - data);
    /* A line of exactly MAX_LINE stays whole when its newline is there already. */
    while (nl == NULL ? end - start >= MAX_LINE : end - start > MAX_LINE) {
      append_line(in, data + start, MAX_LINE);
      start += MAX_LINE;
    }
    if (nl == NULL) return start;
    append_line(in, data + start, end - start);
    start = end + 1;
  }
}

/* Keeps data[0, len) as the stream's unfinished line (none when len is 0); data may be the old one's copy in `joined`. */
static void keep_partial(stream_t *s, const unsigned char *data, size_t len) {
  free(s->partial);
  s->partial = NULL;
  s->partial_len = len;
  if (len == 0) return;
  s->partial = must_alloc(len);
  memcpy(s->partial, data, len);
}

static void split_lines(instance_t *in, stream_t *s, const unsigned char *chunk, size_t len) {
  size_t from = 0;
  if (s->partial_len > 0) {
    /* Only the kept line and this chunk up to its first newline are joined. */
    const unsigned char *nl = memchr(chunk, '\n', len);
    from = nl == NULL ? len : (size_t)(nl - chunk) + 1;
    size_t joined_len = s->partial_len + from;
    memcpy(joined, s->partial, s->partial_len);
    memcpy(joined + s->partial_len, chunk, from);
    keep_partial(s, NULL, 0);
    size_t rest = scan(in, joined, 0, joined_len);
    if (rest < joined_len) {
      keep_partial(s, joined + rest, joined_len - rest);
      return;
    }
  }
  size_t rest = scan(in, chunk, from, len);
  keep_partial(s, chunk + rest, len - rest);
}

/* ---- the instances and their FIFOs ---- */

static void flush_partial(instance_t *in, stream_t *s) {
  s->flush_at = 0;
  if (s->partial_len == 0) return;
  char stamp[32];
  iso_now(stamp);
  batch_begin(stamp, s->tag);
  append_line(in, s->partial, s->partial_len);
  keep_partial(s, NULL, 0);
  batch_end(in);
}

static void on_data(instance_t *in, stream_t *s, const unsigned char *chunk, size_t len) {
  char stamp[32];
  iso_now(stamp);
  total_bytes += len;
  batch_begin(stamp, s->tag);
  split_lines(in, s, chunk, len);
  batch_end(in);
  s->flush_at = s->partial_len > 0 ? now_ms() + PARTIAL_FLUSH_MS : 0;
}

/* Reads one chunk: its size when data came, 0 nothing now (EAGAIN), -1 end of file or a failed read. */
static ssize_t read_once(instance_t *in, stream_t *s) {
  if (s->fd < 0) return -1;
  for (;;) {
    ssize_t n = read(s->fd, read_buf, sizeof read_buf);
    if (n > 0) {
      on_data(in, s, read_buf, (size_t)n);
      return n;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    return -1;
  }
}

/* Reads all the FIFO holds right now; 0 at end of file (or no reader), 1 otherwise. */
/*
 * Reads what the FIFO holds now; 0 at its end. Bounded: what it held at entry (FIONREAD), and
 * at least twice its buffer, so a writer as fast as this reader cannot hold one drain or open
 * in the loop for ever (the rest comes with its next epoll event, level-triggered).
 */
static int read_now(instance_t *in, stream_t *s) {
  if (s->fd < 0) return 0;
  int held = 0;
  if (ioctl(s->fd, FIONREAD, &held) != 0 || held < 0) held = 0;
  int pipe_size = fcntl(s->fd, F_GETPIPE_SZ);
  size_t limit = 2 * (size_t)(pipe_size > 0 ? pipe_size : 65536);
  if ((size_t)held > limit) limit = (size_t)held;
  for (size_t got = 0; got < limit;) {
    ssize_t r = read_once(in, s);
    if (r == 0) return 1;
    if (r < 0) return 0;
    got += (size_t)r;
  }
  return 1;
}

static void close_reader(stream_t *s) {
  if (s->fd < 0) return;
  unwatch(s->fd);
  close(s->fd);
  s->fd = -1;
}

static void maybe_exit(void);

static void forget(instance_t *in) {
  instance_t **at = &instances;
  while (*at != NULL && *at != in) at = &(*at)->next;
  if (*at == in) *at = in->next;
  log_close(in);
  for (int t = 0; t < 2; t++) free(in->streams[t].partial);
  free(in->log_path);
  free(in);
  instance_count--;
}

static void forget_if_closed(instance_t *in) {
  if (in->streams[0].fd >= 0 || in->streams[1].fd >= 0) return;
  forget(in);
  maybe_exit();
}

static instance_t *find_instance(const char *name) {
  for (instance_t *in = instances; in != NULL; in = in->next)
    if (strcmp(in->name, name) == 0) return in;
  return NULL;
}

static void open_instance(const char *name) {
  if (!valid_name(name)) return; /* not an instance name: nothing the daemon made */
  instance_t *in = find_instance(name);
  if (in == NULL) {
    in = must_alloc(sizeof *in);
    snprintf(in->name, sizeof in->name, "%s", name);
    size_t path_len = strlen(log_dir) + 1 + strlen(name) + 4;
    if (path_len >= PATH_MAX) {
      free(in);
      return;
    }
    in->log_path = must_alloc(path_len + 1);
    snprintf(in->log_path, path_len + 1, "%s/%s.log", log_dir, name);
    in->log_fd = -1;
    static const char *tags[2] = {"out", "err"};
    for (int t = 0; t < 2; t++) {
      in->streams[t].owner = in;
      in->streams[t].tag = tags[t];
      in->streams[t].fd = -1;
    }
    in->next = instances;
    instances = in;
    instance_count++;
  }
  for (int t = 0; t < 2; t++) {
    stream_t *s = &in->streams[t];
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s.%s", fifo_dir, name, s->tag) >= (int)sizeof path) continue;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      /* No FIFO (yet): nothing to read. Anything else (EMFILE, ENFILE) leaves its writer blocked once the buffer fills: said. */
      if (errno != ENOENT) complain("cannot open %s: %s", path, error_text(errno));
      continue;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode)) {
      close(fd);
      continue;
    }
    /* The new reader is open before the old one closes: the FIFO's buffer is never without a reader. */
    read_now(in, s);
    close_reader(s);
    s->fd = fd;
    watch(fd, K_STREAM, s, EPOLLIN);
    /* A FIFO that no writer ever opened gives no end-of-file event; reading it tells (0 bytes: nobody writes). */
    if (!read_now(in, s)) {
      flush_partial(in, s);
      close_reader(s);
    }
  }
  /* A new run writes to the file as it is now (it may have been replaced meanwhile). */
  log_close(in);
  forget_if_closed(in);
}

static void drain_instance(const char *name) {
  instance_t *in = find_instance(name);
  if (in == NULL) return;
  for (int t = 0; t < 2; t++) {
    stream_t *s = &in->streams[t];
    if (!read_now(in, s) && s->fd >= 0) {
      flush_partial(in, s);
      close_reader(s);
    }
    flush_partial(in, s);
  }
  log_close(in);
  forget_if_closed(in);
}

static void on_stream_event(stream_t *s) {
  instance_t *in = s->owner;
  /* One chunk per wake-up: a flooding stream cannot starve the others. */
  if (read_once(in, s) >= 0) return;
  flush_partial(in, s);
  close_reader(s);
  forget_if_closed(in);
}

/* ---- dropped-line counters ---- */

static void count_dropped(const char *name, uint64_t lines) {
  dropped_t *d = NULL;
  for (size_t i = 0; i < dropped_len; i++)
    if (strcmp(dropped_totals[i].name, name) == 0) d = &dropped_totals[i];
  if (d == NULL) {
    if (dropped_len == dropped_cap) {
      size_t cap = dropped_cap == 0 ? 16 : dropped_cap * 2;
      dropped_t *grown = realloc(dropped_totals, cap * sizeof *grown);
      if (grown == NULL) return;
      dropped_totals = grown;
      dropped_cap = cap;
    }
    d = &dropped_totals[dropped_len++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
  }
  d->count += lines;
  d->changed = 1;
  if (push_at == 0) push_at = now_ms() + DROPPED_PUSH_MS;
}

/* ---- the control connections ---- */

static void conn_close(conn_t *c);

static void conn_flush(conn_t *c) {
  if (c->broken) {
    conn_close(c);
    return;
  }
  while (c->out_len > 0) {
    ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {
      conn_close(c);
      return;
    }
    memmove(c->out, c->out + n, c->out_len - (size_t)n);
    c->out_len -= (size_t)n;
  }
  struct epoll_event ev = {.events = EPOLLIN | (c->out_len > 0 ? EPOLLOUT : 0), .data.fd = c->fd};
  epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Queues an answer; conn_flush sends it (a connection is never closed here: its caller still uses it). */
static void conn_write(conn_t *c, const char *text, size_t len) {
  if (c->broken) return;
  char *grown = c->out_len + len > MAX_PENDING_OUT ? NULL : realloc(c->out, c->out_len + len);
  if (grown == NULL) {
    c->broken = 1;
    return;
  }
  c->out = grown;
  memcpy(c->out + c->out_len, text, len);
  c->out_len += len;
}

/* A growing text for one message. */
typedef struct {
  char *text;
  size_t len, cap;
} text_t;

static void text_add(text_t *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int need = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (need < 0) return;
  if (t->len + (size_t)need + 1 > t->cap) {
    size_t cap = (t->len + (size_t)need + 1) * 2;
    char *grown = realloc(t->text, cap);
    if (grown == NULL) return;
    t->text = grown;
    t->cap = cap;
  }
  va_start(ap, fmt);
  vsnprintf(t->text + t->len, t->cap - t->len, fmt, ap);
  va_end(ap);
  t->len += (size_t)need;
}

/* {"op":"dropped","all":B,"lines":{...}}: every counter, or only those changed since the last push. */
static text_t dropped_push(int all) {
  text_t t = {0};
  text_add(&t, "{\"op\":\"dropped\",\"all\":%s,\"lines\":{", all ? "true" : "false");
  int first = 1;
  for (size_t i = 0; i < dropped_len; i++) {
    if (!all && !dropped_totals[i].changed) continue;
    /* Names passed valid_name: nothing in them needs escaping. */
    text_add(&t, "%s\"%s\":%llu", first ? "" : ",", dropped_totals[i].name, (unsigned long long)dropped_totals[i].count);
    first = 0;
  }
  text_add(&t, "}}\n");
  return t;
}

static void push_dropped(void) {
  push_at = 0;
  text_t t = dropped_push(0);
  for (size_t i = 0; i < dropped_len; i++) dropped_totals[i].changed = 0;
  for (conn_t *c = conns, *next; c != NULL; c = next) {
    next = c->next;
    if (c->daemon && t.text != NULL) {
      conn_write(c, t.text, t.len);
      conn_flush(c);
    }
  }
  free(t.text);
}

/* ---- a bounded JSON reader for the control lines ---- */

typedef struct {
  const char *p, *end;
} json_t;

static void ws(json_t *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')) j->p++;
}

/* The value of the 4 hex digits at j->p (consumed), or -1 when they are not hex digits. */
static int json_hex4(json_t *j) {
  int v = 0;
  for (int i = 0; i < 4; i++, j->p++) {
    if (j->p >= j->end) return -1;
    char h = *j->p;
    int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/*
 * A string into out; 0 when not a string, or when it is longer than cap - 1 (refused rather
 * than cut: it is not the one sent). \uXXXX of ASCII is decoded as JSON.parse does; NUL and
 * anything past ASCII become '?', which no instance name or op holds, so such a string never
 * equals one (as in the Node collector, where it is not a valid name either).
 */
static int json_string(json_t *j, char *out, size_t cap) {
  ws(j);
  if (j->p >= j->end || *j->p != '"') return 0;
  j->p++;
  size_t n = 0;
  while (j->p < j->end && *j->p != '"') {
    char c = *j->p++;
    if ((unsigned char)c < 0x20) return 0;
    if (c == '\\') {
      if (j->p >= j->end) return 0;
      char e = *j->p++;
      switch (e) {
      case '"': case '\\': case '/': break;
      case 'b': e = '\b'; break;
      case 'f': e = '\f'; break;
      case 'n': e = '\n'; break;
      case 'r': e = '\r'; break;
      case 't': e = '\t'; break;
      case 'u': {
        int v = json_hex4(j);
        if (v < 0) return 0;
        e = v > 0 && v < 0x80 ? (char)v : '?';
        break;
      }
      default: return 0;
      }
      c = e;
    }
    if (out != NULL && n + 1 < cap) out[n] = c;
    n++;
  }
  if (j->p >= j->end) return 0;
  j->p++;
  if (out != NULL) out[n < cap ? n : cap - 1] = '\0';
  return out == NULL || n < cap ? 1 : 0;
}

static int json_value(json_t *j, int depth);

static int is_digit(const json_t *j) { return j->p < j->end && *j->p >= '0' && *j->p <= '9'; }

/* JSON's number grammar exactly (JSON.parse refuses `+1`, `.5`, `01`, `1.`, and so does this). */
static int json_number(json_t *j) {
  ws(j);
  if (j->p < j->end && *j->p == '-') j->p++;
  if (!is_digit(j)) return 0;
  if (*j->p++ != '0')
    while (is_digit(j)) j->p++;
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    if (!is_digit(j)) return 0;
    while (is_digit(j)) j->p++;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-')) j->p++;
    if (!is_digit(j)) return 0;
    while (is_digit(j)) j->p++;
  }
  return 1;
}

static int json_literal(json_t *j, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(j->end - j->p) < n || strncmp(j->p, word, n) != 0) return 0;
  j->p += n;
  return 1;
}

/* An empty object or list: `close` right away (consumed). */
static int json_closes(json_t *j, char close) {
  ws(j);
  if (j->p >= j->end || *j->p != close) return 0;
  j->p++;
  return 1;
}

/* After a member or an element: 1 at a comma (another follows), 0 at `close` (the end), -1 otherwise. */
static int json_after_item(json_t *j, char close) {
  ws(j);
  if (j->p >= j->end || (*j->p != ',' && *j->p != close)) return -1;
  return *j->p++ == ',' ? 1 : 0;
}

/* Calls on_member for each member of an object; the callback reads (or skips) the value. */
static int json_object(json_t *j, int depth, int (*on_member)(json_t *, const char *, void *), void *ctx) {
  ws(j);
  if (j->p >= j->end || *j->p != '{' || depth > 16) return 0;
  j->p++;
  if (json_closes(j, '}')) return 1;
  for (;;) {
    char key[32];
    const char *at = j->p;
    int ours = json_string(j, key, sizeof key);
    if (!ours) {
      /* A key too long for the buffer is none of ours: read it whole, then skip its value. */
      j->p = at;
      if (!json_string(j, NULL, 0)) return 0;
    }
    ws(j);
    if (j->p >= j->end || *j->p != ':') return 0;
    j->p++;
    if (!(ours && on_member != NULL ? on_member(j, key, ctx) : json_value(j, depth + 1))) return 0;
    int next = json_after_item(j, '}');
    if (next <= 0) return next == 0;
  }
}

static int json_value(json_t *j, int depth) {
  ws(j);
  if (j->p >= j->end || depth > 16) return 0;
  switch (*j->p) {
  case '"': return json_string(j, NULL, 0);
  case '{': return json_object(j, depth, NULL, NULL);
  case '[':
    j->p++;
    if (json_closes(j, ']')) return 1;
    for (;;) {
      if (!json_value(j, depth + 1)) return 0;
      int next = json_after_item(j, ']');
      if (next <= 0) return next == 0;
    }
  case 't': return json_literal(j, "true");
  case 'f': return json_literal(j, "false");
  case 'n': return json_literal(j, "null");
  default: return json_number(j);
  }
}

typedef struct {
  char op[16];
  char instance[MAX_NAME + 2];
  int instance_ok;
  /* The id as sent (any JSON value, checked by the grammar above), echoed back as it came: it points into the line. */
  const char *id;
  size_t id_len;
  int has_id;
  limits_t limits;
  int limits_seen, limits_ok;
} request_t;

/* validLimits: each a non-negative safe integer. */
static int limit_member(json_t *j, const char *key, void *ctx) {
  request_t *r = ctx;
  uint64_t *slot = strcmp(key, "maxFileBytes") == 0 ? &r->limits.max_file_bytes
                   : strcmp(key, "keepFiles") == 0  ? &r->limits.keep_files
                   : strcmp(key, "maxTotalBytes") == 0 ? &r->limits.max_total_bytes
                                                        : NULL;
  ws(j);
  const char *start = j->p;
  if (!json_value(j, 1)) return 0;
  if (slot == NULL) return 1;
  char buf[64];
  size_t len = (size_t)(j->p - start);
  if (len == 0 || len >= sizeof buf) {
    r->limits_ok = 0;
    return 1;
  }
  memcpy(buf, start, len);
  buf[len] = '\0';
  char *endp;
  double v = strtod(buf, &endp);
  if (*endp != '\0' || buf[0] == '"' || !(v >= 0) || v > 9007199254740991.0 || v != (double)(uint64_t)v) {
    r->limits_ok = 0;
    return 1;
  }
  *slot = (uint64_t)v;
  r->limits_seen |= slot == &r->limits.max_file_bytes ? 1 : slot == &r->limits.keep_files ? 2 : 4;
  return 1;
}

static int request_member(json_t *j, const char *key, void *ctx) {
  request_t *r = ctx;
  ws(j);
  if (strcmp(key, "op") == 0 && j->p < j->end && *j->p == '"') {
    if (!json_string(j, r->op, sizeof r->op)) r->op[0] = '\0';
    return 1;
  }
  if (strcmp(key, "instance") == 0 && j->p < j->end && *j->p == '"') {
    r->instance_ok = json_string(j, r->instance, sizeof r->instance);
    return 1;
  }
  if (strcmp(key, "limits") == 0 && j->p < j->end && *j->p == '{') {
    r->limits_ok = 1;
    r->limits_seen = 0;
    if (!json_object(j, 1, limit_member, r)) return 0;
    if (r->limits_seen != 7) r->limits_ok = 0;
    return 1;
  }
  const char *start = j->p;
  if (!json_value(j, 1)) return 0;
  if (strcmp(key, "id") == 0) {
    size_t len = (size_t)(j->p - start);
    r->id = start;
    r->id_len = len;
    r->has_id = 1;
  }
  return 1;
}

/* Bytes malloc has handed out. mallinfo2 is glibc 2.33+; older glibc has mallinfo (int fields); other C libraries say 0. */
static size_t heap_used_bytes(void) {
#if defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 33)
  return mallinfo2().uordblks;
#else
  return (size_t)(unsigned)mallinfo().uordblks;
#endif
#else
  return 0;
#endif
}

static size_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "re");
  if (f == NULL) return 0;
  unsigned long size = 0, resident = 0;
  int ok = fscanf(f, "%lu %lu", &size, &resident) == 2;
  fclose(f);
  return ok ? resident * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

/* `{"id":ID,` + rest (or `{` + rest without an id); rest ends the object. The id may be as long as the line. */
static void reply_with_id(conn_t *c, const request_t *r, const char *rest) {
  if (r->has_id) {
    conn_write(c, "{\"id\":", 6);
    conn_write(c, r->id, r->id_len);
    if (rest[0] != '}') conn_write(c, ",", 1);
  } else {
    conn_write(c, "{", 1);
  }
  conn_write(c, rest, strlen(rest));
}

static void handle(conn_t *c, const char *line, size_t len) {
  json_t j = {line, line + len};
  request_t r;
  memset(&r, 0, sizeof r);
  if (!json_object(&j, 0, request_member, &r)) return;
  ws(&j);
  if (j.p != j.end) return; /* trailing text: JSON.parse would refuse the line */
  claimed = 1;
  char reply[512];
  if (strcmp(r.op, "hello") == 0) {
    if (r.limits_ok) limits = r.limits;
    c->daemon = 1;
    text_t t = dropped_push(1);
    if (t.text != NULL) conn_write(c, t.text, t.len);
    free(t.text);
  } else if (strcmp(r.op, "open") == 0) {
    if (r.instance_ok) open_instance(r.instance);
  } else if (strcmp(r.op, "drain") == 0) {
    if (r.instance_ok) drain_instance(r.instance);
    reply_with_id(c, &r, "}\n");
  } else if (strcmp(r.op, "stats") == 0) {
    snprintf(reply, sizeof reply,
                     "\"protocol\":%d,\"implementation\":\"native\",\"lines\":%llu,\"bytes\":%llu,\"instances\":%zu,"
                     "\"rotations\":%llu,\"rssBytes\":%zu,\"heapUsedBytes\":%zu}\n",
                     PROTOCOL,
                     (unsigned long long)total_lines, (unsigned long long)total_bytes, instance_count,
                     (unsigned long long)rotations, rss_bytes(), heap_used_bytes());
    reply_with_id(c, &r, reply);
  }
}

static void on_conn_readable(conn_t *c) {
  char buf[16384];
  for (;;) {
    ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {
      conn_close(c);
      return;
    }
    for (ssize_t i = 0; i < n; i++) {
      if (buf[i] == '\n') {
        if (!c->skipping) handle(c, c->in, c->in_len);
        c->in_len = 0;
        c->skipping = 0;
        continue;
      }
      if (c->skipping) continue;
      if (c->in_len == MAX_REQUEST) {
        c->skipping = 1;
        c->in_len = 0;
        continue;
      }
      c->in[c->in_len++] = buf[i];
    }
  }
  conn_flush(c);
}

static void conn_close(conn_t *c) {
  conn_t **at = &conns;
  while (*at != NULL && *at != c) at = &(*at)->next;
  if (*at != c) return;
  *at = c->next;
  unwatch(c->fd);
  close(c->fd);
  free(c->in);
  free(c->out);
  free(c);
  conn_count--;
  maybe_exit();
}

/* While set (monotonic ms), the server socket is not watched: accept failed for want of descriptors. */
static int64_t accept_resume_at;
static int accept_complained; /* said once until an accept succeeds again */

static void on_accept(void) {
  for (;;) {
    int fd = accept4(server_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)) {
      /* The connection stays queued; level-triggered epoll would wake at once again and spin. Paused a while. */
      if (!accept_complained) complain("cannot accept a connection: %s (tried again every %d ms)", error_text(errno), ACCEPT_PAUSE_MS);
      accept_complained = 1;
      struct epoll_event ev = {.events = 0, .data.fd = server_fd};
      epoll_ctl(epoll_fd, EPOLL_CTL_MOD, server_fd, &ev);
      accept_resume_at = now_ms() + ACCEPT_PAUSE_MS;
      return;
    }
    if (fd < 0) return;
    accept_complained = 0;
    conn_t *c = must_alloc(sizeof *c);
    c->fd = fd;
    c->in = must_alloc(MAX_REQUEST);
    c->next = conns;
    conns = c;
    conn_count++;
    watch(fd, K_CONN, c, EPOLLIN);
  }
}

/* ---- start and stop ---- */

static void stop(void) {
  while (instances != NULL) {
    instance_t *in = instances;
    for (int t = 0; t < 2; t++) {
      read_now(in, &in->streams[t]);
      flush_partial(in, &in->streams[t]);
      close_reader(&in->streams[t]);
    }
    forget(in);
  }
  for (conn_t *c = conns; c != NULL; c = c->next) close(c->fd);
  if (server_fd >= 0) close(server_fd);
  unlink(socket_path);
  exit(0);
}

static void maybe_exit(void) {
  if (claimed && conn_count == 0 && instance_count == 0) stop();
}

/* listen() on the socket; 0 when a live collector already answers there (a stale socket file is replaced). */
static int listen_on_socket(void) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(fd, 64) == 0) {
      server_fd = fd;
      return 1;
    }
    int why = errno;
    close(fd);
    if (why != EADDRINUSE || attempt > 0) {
      complain("cannot listen on %s: %s", socket_path, error_text(why));
      exit(1);
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof addr) == 0) {
      close(probe);
      return 0;
    }
    if (probe >= 0) close(probe);
    unlink(socket_path);
  }
  complain("cannot listen on %s: %s", socket_path, error_text(errno));
  exit(1);
}

static void parse_limits_argument(const char *text) {
  request_t r;
  memset(&r, 0, sizeof r);
  json_t j = {text, text + strlen(text)};
  r.limits_ok = 1;
  if (json_object(&j, 1, limit_member, &r) && r.limits_ok && r.limits_seen == 7) limits = r.limits;
}

static void open_leftovers(void) {
  DIR *dir = opendir(fifo_dir);
  if (dir == NULL) return;
  /* Names first, then opens: opening reads and writes, which must not run while the listing is open. */
  char **names = NULL;
  size_t len = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    size_t n = strlen(de->d_name);
    if (n < 5 || (strcmp(de->d_name + n - 4, ".out") != 0 && strcmp(de->d_name + n - 4, ".err") != 0)) continue;
    if (n - 4 > MAX_NAME) continue;
    int seen = 0;
    for (size_t i = 0; i < len; i++)
      if (strncmp(names[i], de->d_name, n - 4) == 0 && names[i][n - 4] == '\0') seen = 1;
    if (seen) continue;
    if (len == cap) {
      cap = cap == 0 ? 64 : cap * 2;
      char **grown = realloc(names, cap * sizeof *names);
      if (grown == NULL) break;
      names = grown;
    }
    names[len] = strndup(de->d_name, n - 4);
    if (names[len] != NULL) len++;
  }
  closedir(dir);
  for (size_t i = 0; i < len; i++) {
    open_instance(names[i]);
    free(names[i]);
  }
  free(names);
}

static int mkdir_parents(const char *dir) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return -1;
  for (char *p = path + 1; *p != '\0'; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(path, 0750) != 0 && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(path, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    complain("usage: sutazai-log-collector FIFO_DIR LOG_DIR LIMITS_JSON");
    return 2;
  }
  fifo_dir = argv[argc - 3];
  if (realpath(argv[argc - 2], log_dir) == NULL) {
    /* not there yet: the writes create the files, the directory is the daemon's to make */
    if (snprintf(log_dir, sizeof log_dir, "%s", argv[argc - 2]) >= (int)sizeof log_dir) return 2;
  }
  parse_limits_argument(argv[argc - 1]);
  if (snprintf(socket_path, sizeof socket_path, "%s/control.sock", fifo_dir) >= (int)sizeof socket_path) {
    complain("the socket path %s/control.sock is too long for a unix socket", fifo_dir);
    return 1;
  }
  /* Its own session has no terminal; a stray hang-up or interrupt must not cost the lines in flight. */
  signal(SIGHUP, SIG_IGN);
  signal(SIGINT, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, NULL);

  if (mkdir_parents(fifo_dir) != 0) {
    complain("cannot make %s: %s", fifo_dir, error_text(errno));
    return 1;
  }
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  signal_fd = signalfd(-1, &term, SFD_NONBLOCK | SFD_CLOEXEC);
  if (epoll_fd < 0 || signal_fd < 0) {
    complain("epoll/signalfd: %s", error_text(errno));
    return 1;
  }
  if (!listen_on_socket()) return 0; /* another collector already serves this directory */
  watch(server_fd, K_SERVER, NULL, EPOLLIN);
  watch(signal_fd, K_SIGNAL, NULL, EPOLLIN);

  /* What a previous collector left unread: every FIFO in the directory (those nobody writes end at once). */
  open_leftovers();
  unclaimed_at = now_ms() + UNCLAIMED_EXIT_MS;

  struct epoll_event events[64];
  for (;;) {
    int64_t now = now_ms();
    int64_t next = unclaimed_at;
    if (push_at != 0 && push_at < next) next = push_at;
    if (accept_resume_at != 0 && accept_resume_at < next) next = accept_resume_at;
    for (instance_t *in = instances; in != NULL; in = in->next)
      for (int t = 0; t < 2; t++)
        if (in->streams[t].flush_at != 0 && in->streams[t].flush_at < next) next = in->streams[t].flush_at;
    int timeout = next == INT64_MAX ? -1 : next <= now ? 0 : (int)(next - now);
    int n = epoll_wait(epoll_fd, events, 64, timeout);
    if (n < 0 && errno != EINTR) {
      complain("epoll_wait: %s", error_text(errno));
      stop();
    }
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      /* Closed by an earlier event of this batch (its descriptor may be reused meanwhile: a read tells). */
      if ((size_t)fd >= watches_cap || watches[fd] == NULL) continue;
      watch_t *w = watches[fd];
      switch (w->kind) {
      case K_SERVER: on_accept(); break;
      case K_SIGNAL: stop(); break;
      case K_CONN:
        if (events[i].events & EPOLLOUT) conn_flush(w->ptr);
        if ((size_t)fd < watches_cap && watches[fd] == w && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
          on_conn_readable(w->ptr);
        break;
      case K_STREAM: on_stream_event(w->ptr); break;
      }
    }
    now = now_ms();
    if (push_at != 0 && push_at <= now) push_dropped();
    if (accept_resume_at != 0 && accept_resume_at <= now) {
      accept_resume_at = 0;
      struct epoll_event ev = {.events = EPOLLIN, .data.fd = server_fd};
      epoll_ctl(epoll_fd, EPOLL_CTL_MOD, server_fd, &ev);
    }
    for (instance_t *in = instances, *next_in; in != NULL; in = next_in) {
      next_in = in->next;
      for (int t = 0; t < 2; t++)
        if (in->streams[t].flush_at != 0 && in->streams[t].flush_at <= now) flush_partial(in, &in->streams[t]);
    }
    if (unclaimed_at != INT64_MAX && unclaimed_at <= now) {
      unclaimed_at = INT64_MAX;
      claimed = 1;
      maybe_exit();
    }
  }
}
