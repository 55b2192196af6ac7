/* libguestkit: df over many libvirt domains, in parallel, results in order.
 *
 * Each domain gets its own handle and appliance.  Workers take the next
 * domain from a shared index; results are handed to the caller's callback
 * strictly in list order (a result waits until those before it were
 * delivered), so output stays sorted however the work interleaves.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <pthread.h>

#include "internal.h"

struct result {
  bool done;
  int status;
  struct gk_fs_usage *usage;
  size_t n;
  char *message;
};

struct job {
  gk_h *parent;
  const char *uri;
  const struct gk_domain *domains;
  size_t n;
  size_t next;                  /* next domain to take */
  struct result *results;
  pthread_mutex_t lock;
  pthread_cond_t cond;
};

static void
quiet (gk_h *h, void *opaque, const char *msg)
{
}

static void
forward_log (gk_h *h, void *opaque, int level, const char *msg)
{
  gk_h *parent = opaque;

  if (level == GK_LOG_TRACE)
    trace (parent, "%s", msg);
  else if (level == GK_LOG_WARNING)
    warning (parent, "%s", msg);
  else
    debug (parent, "%s", msg);
}

static void
df_one (struct job *job, size_t i, struct result *r)
{
  const struct gk_domain *dom = &job->domains[i];
  gk_h *h = gk_create ();

  if (h == NULL) {
    r->status = -1;
    r->message = strdup (gk_last_error (NULL));
    return;
  }
  gk_set_error_handler (h, quiet, NULL);
  gk_set_log_callback (h, forward_log, job->parent);
  h->verbose = job->parent->verbose;
  h->trace = job->parent->trace;
  h->accel = job->parent->accel;
  h->launch_timeout = job->parent->launch_timeout;

  /* virt-df has always skipped a guest whose disks cannot be added. */
  if (gk_add_domain (h, dom->uuid ? dom->uuid : dom->name, job->uri, 0) == -1)
    r->status = 1;
  else if (gk_df (h, &r->usage, &r->n) == -1)
    r->status = -1;
  else
    r->status = 0;
  if (r->status != 0 && h->last_error)
    r->message = strdup (h->last_error);
  gk_close (h);
}

static void *
worker (void *arg)
{
  struct job *job = arg;

  for (;;) {
    struct result r = { .done = true };
    size_t i;

    pthread_mutex_lock (&job->lock);
    i = job->next++;
    pthread_mutex_unlock (&job->lock);
    if (i >= job->n)
      return NULL;

    df_one (job, i, &r);

    pthread_mutex_lock (&job->lock);
    job->results[i] = r;
    pthread_cond_broadcast (&job->cond);
    pthread_mutex_unlock (&job->lock);
  }
}

/* How many appliances at once: each needs ~1.3 GB of guest memory, and
 * under TCG each keeps a CPU busy, so more than the CPUs only slows all.
 */
static size_t
auto_threads (gk_h *h)
{
  long pages = sysconf (_SC_AVPHYS_PAGES);
  long pagesize = sysconf (_SC_PAGESIZE);
  long cpus = sysconf (_SC_NPROCESSORS_ONLN);
  size_t by_mem = 1, n;

  if (pages > 0 && pagesize > 0)
    by_mem = (size_t) pages / ((1300L << 20) / pagesize);
  if (by_mem < 1)
    by_mem = 1;
  n = by_mem < 12 ? by_mem : 12;
  if (gk_int_choose_accel (h) == GK_ACCEL_TCG && cpus > 0 &&
      n > (size_t) cpus)
    n = cpus;
  return n;
}

int
gk_df_domains (gk_h *h, const char *uri, const struct gk_domain *domains,
               size_t n, size_t max_threads, gk_df_domain_cb cb, void *opaque)
{
  struct job job = {
    .parent = h, .uri = uri, .domains = domains, .n = n,
    .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER,
  };
  pthread_t *threads;
  size_t nthreads, started = 0, i, failed = 0;

  trace (h, "gk_df_domains n=%zu max_threads=%zu", n, max_threads);
  if (n == 0)
    return 0;
  nthreads = max_threads > 0 ? max_threads : auto_threads (h);
  if (nthreads > n)
    nthreads = n;
  debug (h, "df on %zu domains with %zu threads", n, nthreads);

  job.results = calloc (n, sizeof *job.results);
  threads = calloc (nthreads, sizeof *threads);
  if (job.results == NULL || threads == NULL) {
    perrorf (h, "df_domains");
    free (job.results);
    free (threads);
    return -1;
  }
  for (i = 0; i < nthreads; ++i) {
    int err = pthread_create (&threads[i], NULL, worker, &job);
    if (err != 0) {
      if (started == 0) {
        errno = err;
        perrorf (h, "df_domains: pthread_create");
        free (job.results);
        free (threads);
        return -1;
      }
      break;                    /* fewer threads still finish the job */
    }
    started++;
  }

  /* Deliver results in order as they arrive. */
  for (i = 0; i < n; ++i) {
    struct result *r = &job.results[i];

    pthread_mutex_lock (&job.lock);
    while (!r->done)
      pthread_cond_wait (&job.cond, &job.lock);
    pthread_mutex_unlock (&job.lock);

    cb (opaque, &domains[i], r->status, r->usage, r->n, r->message);
    if (r->status == -1)
      failed++;
    gk_free_fs_usage (r->usage, r->n);
    free (r->message);
  }
  for (i = 0; i < started; ++i)
    pthread_join (threads[i], NULL);
  free (threads);
  free (job.results);
  if (failed > 0) {
    error (h, "df failed on %zu of %zu domains", failed, n);
    return -1;
  }
  return 0;
}
