/* libguestkit native engine: LVM2 (see lvm2.h).
 *
 * On disk (lvm2's lib/format_text/layout.h): a label ("LABELONE") in one
 * of the first four 512-byte sectors, with the PV header after it: the
 * PV's id, its data area and its metadata areas.  Each metadata area
 * starts with a 512-byte header (magic " LVM2 x[5A%r0N*>") whose first
 * raw_locn points to the current metadata text, a circular buffer in the
 * rest of the area.  The text describes the whole VG; every PV carrying
 * metadata has a copy, and the highest seqno is the newest.
 *
 * Only linear and striped segments are mapped here; an LV with any other
 * segment type is reported "unsure" for the appliance to read.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <stdarg.h>
#include <string.h>
#include <errno.h>
#include <inttypes.h>
#include <zlib.h>

#include "lvm2.h"

#define SECTOR 512
#define LABEL_SCAN_SECTORS 4
#define MDA_HEADER_SIZE 512
#define MDA_MAGIC " LVM2 x[5A%r0N*>"
#define RAW_LOCN_IGNORED 1
#define MAX_METADATA (64 * 1024 * 1024)   /* bytes of text read at most */
#define MAX_DEPTH 32                      /* nesting of the config format */
#define MAX_MDAS 8                        /* per PV (lvm2 writes 1 or 2) */
#define MAX_SEGMENTS 100000               /* per LV */
#define MAX_STRIPES 128

static inline uint32_t
le32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
    (uint32_t) p[3] << 24;
}

static inline uint64_t
le64 (const uint8_t *p)
{
  return le32 (p) | (uint64_t) le32 (p + 4) << 32;
}

uint32_t
gk_native_lvm_crc (uint32_t initial, const void *buf, size_t len)
{
  /* zlib's crc32 inverts before and after; lvm2's does neither. */
  uint32_t crc = ~initial;
  const uint8_t *p = buf;

  while (len > 0) {
    uInt n = len > 0x40000000 ? 0x40000000 : len;
    crc = crc32 (crc, p, n);
    p += n;
    len -= n;
  }
  return ~crc;
}

/*----------------------------------------------------------------------
 * The config format parser.
 */

DEFINE_VECTOR_TYPE (node_vector, struct gk_lvm_node);

struct parser {
  gk_h *h;
  const char *p, *end;
  const char *where;
  int line;
};

static void __attribute__ ((format (printf, 2, 3)))
parse_error (struct parser *ps, const char *fs, ...)
{
  va_list args;
  char *msg;

  va_start (args, fs);
  if (vasprintf (&msg, fs, args) == -1)
    msg = NULL;
  va_end (args);
  error (ps->h, "%s: LVM metadata line %d: %s", ps->where, ps->line,
         msg ? msg : fs);
  free (msg);
}

static void
free_node_contents (struct gk_lvm_node *n)
{
  size_t i;

  free (n->key);
  free (n->s);
  for (i = 0; i < n->n; i++)
    free_node_contents (&n->items[i]);
  free (n->items);
}

void
gk_native_lvm_free_config (struct gk_lvm_node *root)
{
  if (root) {
    free_node_contents (root);
    free (root);
  }
}

static void
free_nodes (node_vector *v)
{
  size_t i;

  for (i = 0; i < v->len; i++)
    free_node_contents (&v->ptr[i]);
  node_vector_reset (v);
}

/* Skip blanks and comments; false at the end of the text. */
static bool
skip_space (struct parser *ps)
{
  while (ps->p < ps->end && *ps->p != '\0') {
    char c = *ps->p;
    if (c == '\n') {
      ps->line++;
      ps->p++;
    }
    else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v')
      ps->p++;
    else if (c == '#') {
      while (ps->p < ps->end && *ps->p != '\n' && *ps->p != '\0')
        ps->p++;
    }
    else
      return true;
  }
  return false;
}

static bool
is_ident_char (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '+' || c == '.';
}

static int
parse_string (struct parser *ps, char **s_rtn)
{
  const char *start = ps->p + 1, *q;
  char *s, *o;
  int line = ps->line;

  /* First find the end, so that the copy is allocated once. */
  for (q = start; q < ps->end && *q != '"'; q++) {
    if (*q == '\\')
      q++;
    else if (*q == '\0')
      break;
    if (q < ps->end && *q == '\n')
      line++;
  }
  if (q >= ps->end || *q != '"') {
    parse_error (ps, "unterminated string");
    return -1;
  }
  s = o = malloc (q - start + 1);
  if (s == NULL) {
    perrorf (ps->h, "malloc");
    return -1;
  }
  for (; start < q; start++) {
    if (*start == '\\')
      start++;
    *o++ = *start;
  }
  *o = '\0';
  ps->p = q + 1;
  ps->line = line;
  *s_rtn = s;
  return 0;
}

static int
parse_int (struct parser *ps, int64_t *i_rtn)
{
  bool neg = false;
  uint64_t v = 0, limit;

  if (*ps->p == '-') {
    neg = true;
    ps->p++;
  }
  limit = neg ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
  if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') {
    parse_error (ps, "expected a number");
    return -1;
  }
  while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
    unsigned d = *ps->p - '0';
    if (v > (limit - d) / 10) {
      parse_error (ps, "number out of range");
      return -1;
    }
    v = v * 10 + d;
    ps->p++;
  }
  if (ps->p < ps->end && (*ps->p == '.' || is_ident_char (*ps->p))) {
    parse_error (ps, "malformed number (floating point is not expected "
                 "in VG metadata)");
    return -1;
  }
  *i_rtn = neg ? (int64_t) (0 - v) : (int64_t) v;
  return 0;
}

/* A scalar: a string or an integer. */
static int
parse_scalar (struct parser *ps, struct gk_lvm_node *n)
{
  if (*ps->p == '"') {
    n->type = GK_LVM_STRING;
    return parse_string (ps, &n->s);
  }
  if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) {
    n->type = GK_LVM_INT;
    return parse_int (ps, &n->i);
  }
  parse_error (ps, "expected a string or a number, found '%c'", *ps->p);
  return -1;
}

static int
parse_array (struct parser *ps, struct gk_lvm_node *n)
{
  node_vector v = empty_vector;

  ps->p++;                      /* '[' */
  for (;;) {
    struct gk_lvm_node item = { .key = NULL };

    if (!skip_space (ps)) {
      parse_error (ps, "unterminated array");
      goto err;
    }
    if (*ps->p == ']') {
      ps->p++;
      break;
    }
    if (parse_scalar (ps, &item) == -1)
      goto err;
    if (node_vector_append (&v, item) == -1) {
      perrorf (ps->h, "realloc");
      free_node_contents (&item);
      goto err;
    }
    if (!skip_space (ps)) {
      parse_error (ps, "unterminated array");
      goto err;
    }
    if (*ps->p == ',')
      ps->p++;
    else if (*ps->p != ']') {
      parse_error (ps, "expected ',' or ']' in an array");
      goto err;
    }
  }
  n->type = GK_LVM_ARRAY;
  n->items = v.ptr;
  n->n = v.len;
  return 0;

 err:
  free_nodes (&v);
  return -1;
}

/* The items of a section up to its '}' (or the end of the text, for
 * the root).
 */
static int
parse_section (struct parser *ps, struct gk_lvm_node *sec, int depth)
{
  node_vector v = empty_vector;

  if (depth > MAX_DEPTH) {
    parse_error (ps, "sections nested more than %d deep", MAX_DEPTH);
    return -1;
  }
  for (;;) {
    struct gk_lvm_node n = { .key = NULL };
    const char *k;
    int r;

    if (!skip_space (ps)) {
      if (depth > 0) {
        parse_error (ps, "missing '}' at the end of the text");
        goto err;
      }
      break;
    }
    if (*ps->p == '}') {
      if (depth == 0) {
        parse_error (ps, "unexpected '}'");
        goto err;
      }
      ps->p++;
      break;
    }
    k = ps->p;
    while (ps->p < ps->end && is_ident_char (*ps->p))
      ps->p++;
    if (ps->p == k) {
      parse_error (ps, "expected a name, found '%c'", *ps->p);
      goto err;
    }
    n.key = strndup (k, ps->p - k);
    if (n.key == NULL) {
      perrorf (ps->h, "strndup");
      goto err;
    }
    if (!skip_space (ps)) {
      parse_error (ps, "unexpected end of text after '%s'", n.key);
      free (n.key);
      goto err;
    }
    if (*ps->p == '{') {
      ps->p++;
      n.type = GK_LVM_SECTION;
      r = parse_section (ps, &n, depth + 1);
    }
    else if (*ps->p == '=') {
      ps->p++;
      if (!skip_space (ps)) {
        parse_error (ps, "missing value for '%s'", n.key);
        r = -1;
      }
      else if (*ps->p == '[')
        r = parse_array (ps, &n);
      else
        r = parse_scalar (ps, &n);
    }
    else {
      parse_error (ps, "expected '=' or '{' after '%s'", n.key);
      r = -1;
    }
    if (r == -1) {
      free_node_contents (&n);
      goto err;
    }
    if (node_vector_append (&v, n) == -1) {
      perrorf (ps->h, "realloc");
      free_node_contents (&n);
      goto err;
    }
  }
  sec->items = v.ptr;
  sec->n = v.len;
  return 0;

 err:
  free_nodes (&v);
  return -1;
}

int
gk_native_lvm_parse_config (gk_h *h, const char *text, size_t len,
                            const char *where, struct gk_lvm_node **root_rtn)
{
  struct parser ps = { .h = h, .p = text, .end = text + len,
                       .where = where, .line = 1 };
  struct gk_lvm_node *root = calloc (1, sizeof *root);

  *root_rtn = NULL;
  if (root == NULL) {
    perrorf (h, "calloc");
    return -1;
  }
  root->type = GK_LVM_SECTION;
  if (parse_section (&ps, root, 0) == -1) {
    free (root);
    return -1;
  }
  *root_rtn = root;
  return 0;
}

const struct gk_lvm_node *
gk_native_lvm_lookup (const struct gk_lvm_node *sec, const char *path)
{
  while (sec && sec->type == GK_LVM_SECTION) {
    const char *slash = strchr (path, '/');
    size_t klen = slash ? (size_t) (slash - path) : strlen (path);
    const struct gk_lvm_node *found = NULL;
    size_t i;

    for (i = 0; i < sec->n; i++) {
      if (strlen (sec->items[i].key) == klen &&
          memcmp (sec->items[i].key, path, klen) == 0) {
        found = &sec->items[i];
        break;
      }
    }
    if (!slash || !found)
      return found;
    sec = found;
    path = slash + 1;
  }
  return NULL;
}

static const char *
get_string (const struct gk_lvm_node *sec, const char *key)
{
  const struct gk_lvm_node *n = gk_native_lvm_lookup (sec, key);
  return n && n->type == GK_LVM_STRING ? n->s : NULL;
}

static bool
get_int (const struct gk_lvm_node *sec, const char *key, int64_t *i)
{
  const struct gk_lvm_node *n = gk_native_lvm_lookup (sec, key);
  if (n && n->type == GK_LVM_INT) {
    *i = n->i;
    return true;
  }
  return false;
}

/* Whether the array sec/key holds the string flag. */
static bool
has_flag (const struct gk_lvm_node *sec, const char *key, const char *flag)
{
  const struct gk_lvm_node *n = gk_native_lvm_lookup (sec, key);
  size_t i;

  if (n == NULL || n->type != GK_LVM_ARRAY)
    return false;
  for (i = 0; i < n->n; i++)
    if (n->items[i].type == GK_LVM_STRING && strcmp (n->items[i].s, flag) == 0)
      return true;
  return false;
}

/*----------------------------------------------------------------------
 * Labels and metadata areas.
 */

struct pv {
  const struct gk_reader *dev;
  char uuid[33];                /* without dashes */
  char *text;                   /* the newest valid metadata on this PV */
  size_t text_len;
};
DEFINE_VECTOR_TYPE (pv_vector, struct pv);

/* Read the metadata text the mda at offset points to.  1 and the text
 * (malloc'd, NUL-terminated) when there is a valid one, 0 when not
 * (with a debug line), -1 on an I/O error.
 */
static int
read_mda (gk_h *h, const struct gk_reader *dev, uint64_t offset,
          uint64_t size, char **text_rtn, size_t *len_rtn)
{
  uint8_t hdr[MDA_HEADER_SIZE];
  uint64_t toff, tsize, first;
  uint32_t flags;
  char *text;

  if (size < 2 * MDA_HEADER_SIZE || offset > dev->size ||
      size > dev->size - offset) {
    debug (h, "native: lvm: %s: metadata area (%" PRIu64 " bytes at %"
           PRIu64 ") is beyond the end of the device", dev->name, size,
           offset);
    return 0;
  }
  if (gk_reader_pread (h, dev, hdr, sizeof hdr, offset) == -1)
    return -1;
  if (memcmp (hdr + 4, MDA_MAGIC, 16) != 0 || le32 (hdr + 20) != 1 ||
      le64 (hdr + 24) != offset) {
    debug (h, "native: lvm: %s: no metadata area header at %" PRIu64,
           dev->name, offset);
    return 0;
  }
  if (gk_native_lvm_crc (GK_LVM_INITIAL_CRC, hdr + 4, sizeof hdr - 4) !=
      le32 (hdr)) {
    debug (h, "native: lvm: %s: metadata area header at %" PRIu64
           " has a bad checksum", dev->name, offset);
    return 0;
  }
  /* The header's size, not the label's, bounds the text. */
  if (le64 (hdr + 32) < size)
    size = le64 (hdr + 32);
  toff = le64 (hdr + 40);
  tsize = le64 (hdr + 48);
  flags = le32 (hdr + 60);
  if (toff == 0 || (flags & RAW_LOCN_IGNORED)) {
    debug (h, "native: lvm: %s: metadata area at %" PRIu64 " is empty "
           "or ignored", dev->name, offset);
    return 0;
  }
  if (toff < MDA_HEADER_SIZE || toff >= size || tsize == 0 ||
      tsize > size - MDA_HEADER_SIZE || tsize > MAX_METADATA) {
    debug (h, "native: lvm: %s: metadata area at %" PRIu64 ": text of %"
           PRIu64 " bytes at %" PRIu64 " does not fit in its %" PRIu64
           " bytes", dev->name, offset, tsize, toff, size);
    return 0;
  }
  text = malloc (tsize + 1);
  if (text == NULL) {
    perrorf (h, "malloc");
    return -1;
  }
  /* The area is a circular buffer after its header. */
  first = tsize <= size - toff ? tsize : size - toff;
  if (gk_reader_pread (h, dev, text, first, offset + toff) == -1 ||
      (first < tsize &&
       gk_reader_pread (h, dev, text + first, tsize - first,
                        offset + MDA_HEADER_SIZE) == -1)) {
    free (text);
    return -1;
  }
  text[tsize] = '\0';
  if (gk_native_lvm_crc (GK_LVM_INITIAL_CRC, text, tsize) != le32 (hdr + 56)) {
    debug (h, "native: lvm: %s: metadata text at %" PRIu64 " has a bad "
           "checksum", dev->name, offset + toff);
    free (text);
    return 0;
  }
  *text_rtn = text;
  *len_rtn = tsize;
  return 1;
}

/* Look for a PV label on dev.  1 (and *pv filled in), 0 or -1. */
static int
scan_label (gk_h *h, const struct gk_reader *dev, struct pv *pv)
{
  uint8_t buf[LABEL_SCAN_SECTORS * SECTOR];
  const uint8_t *l = NULL, *ph, *d, *sector_end;
  int64_t best_seqno = -1;
  size_t s, nmda = 0;
  bool in_mdas = false;

  if (dev->size < sizeof buf)
    return 0;
  if (gk_reader_pread (h, dev, buf, sizeof buf, 0) == -1)
    return -1;
  for (s = 0; s < LABEL_SCAN_SECTORS; s++) {
    const uint8_t *c = buf + s * SECTOR;
    if (memcmp (c, "LABELONE", 8) == 0 && le64 (c + 8) == s &&
        memcmp (c + 24, "LVM2 001", 8) == 0) {
      l = c;
      break;
    }
  }
  if (l == NULL)
    return 0;
  if (gk_native_lvm_crc (GK_LVM_INITIAL_CRC, l + 20, SECTOR - 20) !=
      le32 (l + 16)) {
    debug (h, "native: lvm: %s: PV label in sector %zu has a bad checksum: "
           "ignored", dev->name, s);
    return 0;
  }
  sector_end = l + SECTOR;
  if (le32 (l + 20) < 32 || le32 (l + 20) > SECTOR - 32 - 8 - 32) {
    debug (h, "native: lvm: %s: PV label with a bad header offset",
           dev->name);
    return 0;
  }
  ph = l + le32 (l + 20);
  memset (pv, 0, sizeof *pv);
  pv->dev = dev;
  memcpy (pv->uuid, ph, 32);
  pv->uuid[32] = '\0';

  /* The data areas, a zero entry, the metadata areas, a zero entry. */
  for (d = ph + 40; d + 16 <= sector_end; d += 16) {
    uint64_t off = le64 (d), size = le64 (d + 8);
    CLEANUP_FREE char *text = NULL;
    size_t len;
    int r;

    if (off == 0) {
      if (in_mdas)
        break;
      in_mdas = true;
      continue;
    }
    if (!in_mdas)
      continue;
    if (++nmda > MAX_MDAS)
      break;
    r = read_mda (h, dev, off, size, &text, &len);
    if (r == -1) {
      free (pv->text);
      return -1;
    }
    if (r == 1) {
      /* Two areas on one PV: keep the newer (a quick look at seqno). */
      const char *q = strstr (text, "seqno = ");
      int64_t seqno = q ? strtoll (q + 8, NULL, 10) : 0;

      if (seqno > best_seqno) {
        free (pv->text);
        pv->text = TAKE_PTR (text);
        pv->text_len = len;
        best_seqno = seqno;
      }
    }
  }
  debug (h, "native: lvm: %s: PV %s, %s metadata", dev->name, pv->uuid,
         pv->text ? "with" : "without");
  return 1;
}

/*----------------------------------------------------------------------
 * Volume groups and the LV reader.
 */

struct lv_area {
  const struct gk_reader *pv;
  uint64_t offset;              /* bytes on the PV */
};

struct lv_seg {
  uint64_t start, len;          /* bytes in the LV */
  uint64_t stripe_size;         /* bytes; 0 when linear */
  uint32_t nareas;
  struct lv_area *areas;
};

struct lv_map {
  size_t nsegs;
  struct lv_seg *segs;
};

static void
lv_map_free (void *opaque)
{
  struct lv_map *m = opaque;
  size_t i;

  if (m == NULL)
    return;
  for (i = 0; i < m->nsegs; i++)
    free (m->segs[i].areas);
  free (m->segs);
  free (m);
}

static int
lv_pread (gk_h *h, void *opaque, void *buf, size_t count, uint64_t offset)
{
  struct lv_map *m = opaque;

  while (count > 0) {
    size_t lo = 0, hi = m->nsegs, n;
    const struct lv_seg *seg;
    const struct lv_area *a;
    uint64_t r, pvoff;

    while (hi - lo > 1) {             /* the last seg starting <= offset */
      size_t mid = (lo + hi) / 2;
      if (m->segs[mid].start <= offset)
        lo = mid;
      else
        hi = mid;
    }
    seg = &m->segs[lo];
    r = offset - seg->start;          /* gk_reader_pread checked the end */
    if (seg->nareas == 1) {
      a = &seg->areas[0];
      pvoff = a->offset + r;
      n = count < seg->len - r ? count : seg->len - r;
    }
    else {
      uint64_t chunk = r / seg->stripe_size, within = r % seg->stripe_size;
      a = &seg->areas[chunk % seg->nareas];
      pvoff = a->offset + chunk / seg->nareas * seg->stripe_size + within;
      n = count < seg->stripe_size - within ? count
        : seg->stripe_size - within;
    }
    if (gk_reader_pread (h, a->pv, buf, n, pvoff) == -1)
      return -1;
    buf = (char *) buf + n;
    offset += n;
    count -= n;
  }
  return 0;
}

DEFINE_VECTOR_TYPE (lv_vector, struct gk_lv);

void
gk_native_free_lvs (struct gk_lv *lvs, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    gk_reader_close (&lvs[i].reader);
    free (lvs[i].name);
    free (lvs[i].vg_name);
    free (lvs[i].lv_name);
    free (lvs[i].why);
  }
  free (lvs);
}

/* The PV named pvname ("pv0") in the VG: its reader (NULL if missing),
 * pe_start in bytes and pe_count.  false if the VG does not have it.
 */
static bool
find_pv (const struct gk_lvm_node *vg, const pv_vector *pvs,
         const char *pvname, const struct gk_reader **dev_rtn,
         uint64_t *pe_start_rtn, uint64_t *pe_count_rtn)
{
  const struct gk_lvm_node *pvs_sec, *pvsec = NULL;
  const char *id;
  char uuid[33];
  int64_t pe_start, pe_count;
  size_t i, j;

  pvs_sec = gk_native_lvm_lookup (vg, "physical_volumes");
  if (pvs_sec == NULL || pvs_sec->type != GK_LVM_SECTION)
    return false;
  for (i = 0; i < pvs_sec->n; i++)
    if (strcmp (pvs_sec->items[i].key, pvname) == 0)
      pvsec = &pvs_sec->items[i];
  if (pvsec == NULL || pvsec->type != GK_LVM_SECTION ||
      (id = get_string (pvsec, "id")) == NULL ||
      !get_int (pvsec, "pe_start", &pe_start) ||
      !get_int (pvsec, "pe_count", &pe_count) ||
      pe_start < 0 || pe_start > INT64_MAX / SECTOR || pe_count < 0)
    return false;
  for (i = j = 0; id[i] && j < 32; i++)
    if (id[i] != '-')
      uuid[j++] = id[i];
  uuid[j] = '\0';
  *dev_rtn = NULL;
  if (!has_flag (pvsec, "status", "MISSING") &&
      !has_flag (pvsec, "flags", "MISSING")) {
    for (i = 0; i < pvs->len; i++)
      if (strcmp (pvs->ptr[i].uuid, uuid) == 0)
        *dev_rtn = pvs->ptr[i].dev;
  }
  *pe_start_rtn = (uint64_t) pe_start * SECTOR;
  *pe_count_rtn = pe_count;
  return true;
}

/* Build the map of one LV.  0 (m filled in), or a reason it is unsure
 * in *why (malloc'd) and GK_NATIVE_UNSURE; -1 on allocation failure.
 */
static int __attribute__ ((format (printf, 3, 4)))
set_why (gk_h *h, char **why, const char *fs, ...)
{
  va_list args;

  va_start (args, fs);
  if (vasprintf (why, fs, args) == -1)
    *why = NULL;
  va_end (args);
  return GK_NATIVE_UNSURE;
}

static int
map_lv (gk_h *h, const struct gk_lvm_node *vg, const struct gk_lvm_node *lv,
        const pv_vector *pvs, uint64_t extent, struct lv_map *m,
        uint64_t *size_rtn, char **why)
{
  uint64_t next_le = 0;
  size_t i, j;

  for (i = 0; i < lv->n; i++) {
    const struct gk_lvm_node *s = &lv->items[i], *stripes;
    struct lv_seg *seg;
    int64_t start_le, le_count, stripe_count, stripe_size = 0;
    const char *type;
    uint64_t area_len;

    if (s->type != GK_LVM_SECTION)
      continue;
    type = get_string (s, "type");
    if (type == NULL)
      return set_why (h, why, "segment %s has no type", s->key);
    if (strcmp (type, "striped") != 0 && strcmp (type, "linear") != 0)
      return set_why (h, why, "segment type \"%s\"", type);
    if (!get_int (s, "start_extent", &start_le) ||
        !get_int (s, "extent_count", &le_count) ||
        !get_int (s, "stripe_count", &stripe_count))
      return set_why (h, why, "segment %s lacks start_extent, extent_count "
                      "or stripe_count", s->key);
    if (start_le < 0 || (uint64_t) start_le != next_le)
      return set_why (h, why, "segment %s starts at extent %" PRIi64
                      ", not %" PRIu64, s->key, start_le, next_le);
    if (le_count <= 0 || (uint64_t) le_count > UINT64_MAX / extent ||
        (uint64_t) le_count > UINT64_MAX / extent - next_le)
      return set_why (h, why, "segment %s: absurd extent_count %" PRIi64,
                      s->key, le_count);
    if (stripe_count < 1 || stripe_count > MAX_STRIPES ||
        le_count % stripe_count != 0)
      return set_why (h, why, "segment %s: bad stripe_count %" PRIi64,
                      s->key, stripe_count);
    if (stripe_count > 1 &&
        (!get_int (s, "stripe_size", &stripe_size) || stripe_size <= 0 ||
         (uint64_t) stripe_size > extent / SECTOR ||
         (extent * (le_count / stripe_count)) % (stripe_size * SECTOR) != 0))
      return set_why (h, why, "segment %s: bad stripe_size", s->key);
    stripes = gk_native_lvm_lookup (s, "stripes");
    if (stripes == NULL || stripes->type != GK_LVM_ARRAY ||
        stripes->n != (size_t) stripe_count * 2)
      return set_why (h, why, "segment %s: stripes does not list %" PRIi64
                      " areas", s->key, stripe_count);
    if (m->nsegs >= MAX_SEGMENTS)
      return set_why (h, why, "more than %d segments", MAX_SEGMENTS);

    seg = realloc (m->segs, (m->nsegs + 1) * sizeof *seg);
    if (seg == NULL) {
      perrorf (h, "realloc");
      return -1;
    }
    m->segs = seg;
    seg = &m->segs[m->nsegs];
    memset (seg, 0, sizeof *seg);
    seg->areas = calloc (stripe_count, sizeof *seg->areas);
    if (seg->areas == NULL) {
      perrorf (h, "calloc");
      return -1;
    }
    m->nsegs++;
    seg->start = next_le * extent;
    seg->len = le_count * extent;
    seg->nareas = stripe_count;
    seg->stripe_size = stripe_size * SECTOR;
    area_len = le_count / stripe_count;   /* extents */
    for (j = 0; j < (size_t) stripe_count; j++) {
      const struct gk_lvm_node *pvn = &stripes->items[2*j];
      const struct gk_lvm_node *pe = &stripes->items[2*j+1];
      uint64_t pe_start, pe_count;

      if (pvn->type != GK_LVM_STRING || pe->type != GK_LVM_INT || pe->i < 0)
        return set_why (h, why, "segment %s: malformed stripes", s->key);
      if (!find_pv (vg, pvs, pvn->s, &seg->areas[j].pv, &pe_start,
                    &pe_count))
        return set_why (h, why, "segment %s: no physical volume %s in the "
                        "VG", s->key, pvn->s);
      if (seg->areas[j].pv == NULL)
        return set_why (h, why, "physical volume %s is missing", pvn->s);
      if ((uint64_t) pe->i > pe_count || area_len > pe_count - pe->i ||
          pe_start > seg->areas[j].pv->size ||
          (pe->i + area_len) > (seg->areas[j].pv->size - pe_start) / extent)
        return set_why (h, why, "segment %s: extents %" PRIi64 "-%" PRIu64
                        " are beyond the end of %s (%s)", s->key, pe->i,
                        pe->i + area_len - 1, pvn->s,
                        seg->areas[j].pv->name);
      seg->areas[j].offset = pe_start + pe->i * extent;
    }
    next_le += le_count;
  }
  if (m->nsegs == 0)
    return set_why (h, why, "no segments");
  *size_rtn = next_le * extent;
  return 0;
}

/* Mark LVs with snapshots, and the snapshots' COW stores. */
static bool
in_snapshot (const struct gk_lvm_node *lvs, const char *name,
             const char **role)
{
  size_t i, j;

  for (i = 0; i < lvs->n; i++) {
    const struct gk_lvm_node *lv = &lvs->items[i];
    for (j = 0; lv->type == GK_LVM_SECTION && j < lv->n; j++) {
      const struct gk_lvm_node *s = &lv->items[j];
      const char *type, *o, *c;

      if (s->type != GK_LVM_SECTION ||
          (type = get_string (s, "type")) == NULL ||
          strcmp (type, "snapshot") != 0)
        continue;
      o = get_string (s, "origin");
      c = get_string (s, "cow_store");
      if (o && strcmp (o, name) == 0) {
        *role = "the origin of a snapshot";
        return true;
      }
      if (c && strcmp (c, name) == 0) {
        *role = "a snapshot";
        return true;
      }
    }
  }
  return false;
}

static int
add_vg (gk_h *h, const struct gk_lvm_node *vg, const pv_vector *pvs,
        const char *where, lv_vector *out)
{
  const struct gk_lvm_node *lvs;
  int64_t extent_size;
  uint64_t extent;
  size_t i;

  if (!get_int (vg, "extent_size", &extent_size) || extent_size <= 0 ||
      extent_size > (INT64_C (1) << 32)) {
    error (h, "%s: LVM metadata of VG %s: bad or missing extent_size",
           where, vg->key);
    return -1;
  }
  extent = (uint64_t) extent_size * SECTOR;
  lvs = gk_native_lvm_lookup (vg, "logical_volumes");
  if (lvs == NULL)
    return 0;
  if (lvs->type != GK_LVM_SECTION) {
    error (h, "%s: LVM metadata of VG %s: logical_volumes is not a section",
           where, vg->key);
    return -1;
  }
  for (i = 0; i < lvs->n; i++) {
    const struct gk_lvm_node *lv = &lvs->items[i];
    struct gk_lv l = { .unsure = false };
    struct lv_map *m;
    const char *role;
    int r;

    if (lv->type != GK_LVM_SECTION || !has_flag (lv, "status", "VISIBLE"))
      continue;
    l.vg_name = strdup (vg->key);
    l.lv_name = strdup (lv->key);
    m = calloc (1, sizeof *m);
    if (l.vg_name == NULL || l.lv_name == NULL || m == NULL ||
        asprintf (&l.name, "/dev/%s/%s", vg->key, lv->key) == -1) {
      perrorf (h, "malloc");
      free (l.vg_name);
      free (l.lv_name);
      free (m);
      return -1;
    }
    if (in_snapshot (lvs, lv->key, &role))
      r = set_why (h, &l.why, "it is %s", role);
    else
      r = map_lv (h, vg, lv, pvs, extent, m, &l.size, &l.why);
    if (r == 0) {
      l.reader.pread = lv_pread;
      l.reader.close = lv_map_free;
      l.reader.opaque = m;
      l.reader.size = l.size;
      l.reader.name = l.name;
      debug (h, "native: lvm: %s: %" PRIu64 " bytes in %zu segments",
             l.name, l.size, m->nsegs);
    }
    else {
      lv_map_free (m);
      if (r == -1) {
        free (l.name);
        free (l.vg_name);
        free (l.lv_name);
        free (l.why);
        return -1;
      }
      l.unsure = true;
      debug (h, "native: lvm: %s: unsure, the appliance reads it: %s",
             l.name, l.why ? l.why : "(no memory for the reason)");
    }
    if (lv_vector_append (out, l) == -1) {
      perrorf (h, "realloc");
      gk_reader_close (&l.reader);
      free (l.name);
      free (l.vg_name);
      free (l.lv_name);
      free (l.why);
      return -1;
    }
  }
  return 0;
}

/* The VG section of a metadata text: the one section at the top. */
static const struct gk_lvm_node *
vg_section (const struct gk_lvm_node *root)
{
  const struct gk_lvm_node *vg = NULL;
  size_t i;

  for (i = 0; i < root->n; i++) {
    if (root->items[i].type == GK_LVM_SECTION) {
      if (vg)
        return NULL;
      vg = &root->items[i];
    }
  }
  return vg;
}

struct vg_copy {
  struct gk_lvm_node *root;
  const struct gk_lvm_node *vg;
  const char *id;
  int64_t seqno;
  const char *where;
};
DEFINE_VECTOR_TYPE (vg_vector, struct vg_copy);

static int
compare_lvs (const void *a, const void *b)
{
  const struct gk_lv *x = a, *y = b;
  int r = strcmp (x->vg_name, y->vg_name);

  return r ? r : strcmp (x->lv_name, y->lv_name);
}

int
gk_native_lvm (gk_h *h, const struct gk_reader *const *devs, size_t ndevs,
               struct gk_lv **lvs_rtn, size_t *n_rtn, char **why_rtn)
{
  pv_vector pvs = empty_vector;
  vg_vector vgs = empty_vector;
  lv_vector out = empty_vector;
  int ret = -1;
  size_t i, j;

  *lvs_rtn = NULL;
  *n_rtn = 0;
  if (why_rtn)
    *why_rtn = NULL;

  for (i = 0; i < ndevs; i++) {
    struct pv pv;
    int r = scan_label (h, devs[i], &pv);

    if (r == -1)
      goto out;
    if (r == 0)
      continue;
    for (j = 0; j < pvs.len; j++) {
      if (strcmp (pvs.ptr[j].uuid, pv.uuid) == 0) {
        const char *other = pvs.ptr[j].dev->name;
        free (pv.text);
        debug (h, "native: lvm: PV %s on both %s and %s", pv.uuid,
               other, devs[i]->name);
        if (why_rtn &&
            asprintf (why_rtn, "PV %s is on both %s and %s", pv.uuid,
                      other, devs[i]->name) == -1)
          *why_rtn = NULL;
        ret = GK_NATIVE_UNSURE;
        goto out;
      }
    }
    if (pv_vector_append (&pvs, pv) == -1) {
      perrorf (h, "realloc");
      free (pv.text);
      goto out;
    }
  }

  /* Parse each PV's metadata; keep the newest copy of each VG. */
  for (i = 0; i < pvs.len; i++) {
    struct vg_copy c = { .where = pvs.ptr[i].dev->name };

    if (pvs.ptr[i].text == NULL)
      continue;
    if (gk_native_lvm_parse_config (h, pvs.ptr[i].text, pvs.ptr[i].text_len,
                                    c.where, &c.root) == -1)
      goto out;
    c.vg = vg_section (c.root);
    if (c.vg == NULL || (c.id = get_string (c.vg, "id")) == NULL ||
        !get_int (c.vg, "seqno", &c.seqno)) {
      error (h, "%s: LVM metadata without one VG section with id and seqno",
             c.where);
      gk_native_lvm_free_config (c.root);
      goto out;
    }
    for (j = 0; j < vgs.len; j++) {
      if (strcmp (vgs.ptr[j].id, c.id) == 0)
        break;
      if (strcmp (vgs.ptr[j].vg->key, c.vg->key) == 0) {
        if (why_rtn &&
            asprintf (why_rtn, "two volume groups named %s", c.vg->key) == -1)
          *why_rtn = NULL;
        debug (h, "native: lvm: two volume groups named %s", c.vg->key);
        gk_native_lvm_free_config (c.root);
        ret = GK_NATIVE_UNSURE;
        goto out;
      }
    }
    if (j < vgs.len) {
      if (c.seqno > vgs.ptr[j].seqno) {
        debug (h, "native: lvm: VG %s: seqno %" PRIi64 " on %s is newer "
               "than %" PRIi64 " on %s", c.vg->key, c.seqno, c.where,
               vgs.ptr[j].seqno, vgs.ptr[j].where);
        gk_native_lvm_free_config (vgs.ptr[j].root);
        vgs.ptr[j] = c;
      }
      else
        gk_native_lvm_free_config (c.root);
      continue;
    }
    if (vg_vector_append (&vgs, c) == -1) {
      perrorf (h, "realloc");
      gk_native_lvm_free_config (c.root);
      goto out;
    }
  }

  for (i = 0; i < vgs.len; i++) {
    debug (h, "native: lvm: VG %s (seqno %" PRIi64 " from %s)",
           vgs.ptr[i].vg->key, vgs.ptr[i].seqno, vgs.ptr[i].where);
    if (add_vg (h, vgs.ptr[i].vg, &pvs, vgs.ptr[i].where, &out) == -1)
      goto out;
  }
  if (out.len > 0)
    qsort (out.ptr, out.len, sizeof out.ptr[0], compare_lvs);
  *lvs_rtn = TAKE_PTR (out.ptr);
  *n_rtn = out.len;
  out.len = 0;
  ret = 0;

 out:
  gk_native_free_lvs (out.ptr, out.len);
  for (i = 0; i < vgs.len; i++)
    gk_native_lvm_free_config (vgs.ptr[i].root);
  vg_vector_reset (&vgs);
  for (i = 0; i < pvs.len; i++)
    free (pvs.ptr[i].text);
  pv_vector_reset (&pvs);
  return ret;
}
