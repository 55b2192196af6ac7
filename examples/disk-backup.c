/* An example backup tool over libguestkit's block-level API.
 *
 *   disk-backup [-j THREADS] [--format FMT] DISK...
 *
 * For each disk: its extents (data / zero / hole), then a read of every
 * data extent as a stream (holes are never read) into a SHA-256 of the
 * guest-visible disk, printed as
 *
 *   DISK SIZE DATA-BYTES ZERO-BYTES HOLE-BYTES SHA256
 *
 * which equals "qemu-img convert -O raw DISK - | sha256sum" for the hash.
 * With -j N the disks are shared out between N threads, each with its
 * own handle (libguestkit's rule: one handle per thread).
 *
 * Build:  cc disk-backup.c $(pkg-config --cflags --libs guestkit libcrypto) -pthread
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <pthread.h>

#include <openssl/evp.h>

#include <guestkit.h>

struct task {
  const char *path;
  const char *format;
  char line[512];
  int ok;
};

struct totals {
  uint64_t bytes[3];
  EVP_MD_CTX *md;
  uint64_t pos;                 /* bytes hashed */
};

static int
count_extent (void *opaque, uint64_t offset, uint64_t length, unsigned type)
{
  struct totals *t = opaque;

  t->bytes[type] += length;
  return 0;
}

static int
hash_data (void *opaque, uint64_t offset, uint64_t length, unsigned type,
           const void *data)
{
  static const unsigned char zeros[65536];
  struct totals *t = opaque;

  if (offset != t->pos)
    return -1;                  /* the stream is in order, without gaps */
  if (data)
    EVP_DigestUpdate (t->md, data, length);
  else
    for (uint64_t left = length; left > 0; ) {
      size_t n = left < sizeof zeros ? left : sizeof zeros;

      EVP_DigestUpdate (t->md, zeros, n);
      left -= n;
    }
  t->pos += length;
  return 0;
}

static void
run_task (struct task *task)
{
  gk_h *h = gk_create ();
  gk_disk *d;
  struct totals t = { .md = NULL };
  unsigned char md[32];
  unsigned int mdlen;
  char hex[65];
  uint64_t size;
  int i;

  if (h == NULL) {
    snprintf (task->line, sizeof task->line, "%s: %s", task->path,
              gk_last_error (NULL));
    return;
  }
  gk_push_error_handler (h, NULL, NULL);
  d = gk_disk_open (h, task->path, task->format, 0);
  if (d == NULL)
    goto err;
  size = gk_disk_get_size (d);
  if (gk_disk_extents (d, 0, size, count_extent, &t) == -1)
    goto err;
  t.md = EVP_MD_CTX_new ();
  EVP_DigestInit_ex (t.md, EVP_sha256 (), NULL);
  if (gk_disk_read_extents (d, 0, size, NULL, hash_data, &t) == -1 ||
      t.pos != size) {
    EVP_MD_CTX_free (t.md);
    goto err;
  }
  EVP_DigestFinal_ex (t.md, md, &mdlen);
  EVP_MD_CTX_free (t.md);
  for (i = 0; i < 32; ++i)
    sprintf (hex + 2 * i, "%02x", md[i]);
  snprintf (task->line, sizeof task->line, "%s %" PRIu64 " %" PRIu64 " %"
            PRIu64 " %" PRIu64 " %s", task->path, size, t.bytes[0],
            t.bytes[1], t.bytes[2], hex);
  task->ok = 1;
  gk_disk_close (d);
  gk_close (h);
  return;

 err:
  snprintf (task->line, sizeof task->line, "%s: %s", task->path,
            gk_last_error (h));
  if (d)
    gk_disk_close (d);
  gk_close (h);
}

struct worker {
  struct task *tasks;
  size_t n, first, step;
};

static void *
worker (void *arg)
{
  struct worker *w = arg;

  for (size_t i = w->first; i < w->n; i += w->step)
    run_task (&w->tasks[i]);
  return NULL;
}

int
main (int argc, char *argv[])
{
  const char *format = NULL;
  int threads = 1, i, n = 0, ret = EXIT_SUCCESS;
  struct task *tasks;
  pthread_t *tids;
  struct worker *ws;

  tasks = calloc (argc, sizeof *tasks);
  for (i = 1; i < argc; ++i) {
    if (strcmp (argv[i], "-j") == 0 && i + 1 < argc)
      threads = atoi (argv[++i]);
    else if (strcmp (argv[i], "--format") == 0 && i + 1 < argc)
      format = argv[++i];
    else {
      tasks[n].path = argv[i];
      tasks[n].format = format;
      n++;
    }
  }
  if (n == 0 || threads < 1) {
    fprintf (stderr, "usage: disk-backup [-j THREADS] [--format FMT] DISK...\n");
    exit (EXIT_FAILURE);
  }
  tids = calloc (threads, sizeof *tids);
  ws = calloc (threads, sizeof *ws);
  for (i = 0; i < threads; ++i) {
    ws[i] = (struct worker) { tasks, n, i, threads };
    pthread_create (&tids[i], NULL, worker, &ws[i]);
  }
  for (i = 0; i < threads; ++i)
    pthread_join (tids[i], NULL);
  for (i = 0; i < n; ++i) {
    printf ("%s\n", tasks[i].line);
    if (!tasks[i].ok)
      ret = EXIT_FAILURE;
  }
  free (tasks);
  free (tids);
  free (ws);
  return ret;
}
