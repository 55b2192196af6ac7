/* guestkit: lvm2 JSON reports (json-c), see lvm-report.h. */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>

#include <json-c/json.h>

#include "internal.h"
#include "lvm-report.h"

void
lvm_report_free (struct lvm_report *rep)
{
  size_t i;

  for (i = 0; rep->fields && i < rep->nr_fields; ++i)
    free (rep->fields[i]);
  for (i = 0; rep->values && i < rep->nr_rows * rep->nr_fields; ++i)
    free (rep->values[i]);
  free (rep->fields);
  free (rep->values);
  memset (rep, 0, sizeof *rep);
}

/* Split "a,b,c" into rep->fields. */
static int
split_fields (gk_h *h, const char *fields, struct lvm_report *rep)
{
  const char *p = fields;
  size_t n = 1, i;

  for (i = 0; fields[i]; ++i)
    if (fields[i] == ',')
      n++;
  rep->fields = calloc (n, sizeof (char *));
  if (rep->fields == NULL) {
    perrorf (h, "lvm report");
    return -1;
  }
  for (i = 0; i < n; ++i) {
    size_t len = strcspn (p, ",");

    rep->fields[i] = strndup (p, len);
    if (rep->fields[i] == NULL) {
      perrorf (h, "lvm report");
      return -1;
    }
    rep->nr_fields++;
    p += len + (p[len] == ',');
  }
  return 0;
}

/* Append one row (a JSON object) to rep. */
static int
add_row (gk_h *h, struct lvm_report *rep, const char *section,
         struct json_object *row)
{
  char **values;
  size_t i, base = rep->nr_rows * rep->nr_fields;

  if (!json_object_is_type (row, json_type_object)) {
    error_errno (h, EPROTO, "lvm report: a row of ‘%s’ is not a JSON object",
                 section);
    return -1;
  }
  values = realloc (rep->values,
                    (base + rep->nr_fields) * sizeof (char *));
  if (values == NULL) {
    perrorf (h, "lvm report");
    return -1;
  }
  rep->values = values;
  for (i = 0; i < rep->nr_fields; ++i)
    values[base + i] = NULL;
  rep->nr_rows++;               /* the NULLs are freed on error */
  for (i = 0; i < rep->nr_fields; ++i) {
    struct json_object *v;

    if (!json_object_object_get_ex (row, rep->fields[i], &v)) {
      error_errno (h, EPROTO, "lvm report: the column ‘%s’ is missing from "
                   "‘%s’", rep->fields[i], section);
      return -1;
    }
    if (!json_object_is_type (v, json_type_string)) {
      error_errno (h, EPROTO, "lvm report: the column ‘%s’ of ‘%s’ is not "
                   "a string", rep->fields[i], section);
      return -1;
    }
    values[base + i] = strdup (json_object_get_string (v));
    if (values[base + i] == NULL) {
      perrorf (h, "lvm report");
      return -1;
    }
  }
  return 0;
}

int
lvm_report_parse (gk_h *h, const char *json, const char *section,
                  const char *fields, struct lvm_report *rep)
{
  struct json_tokener *tok;
  struct json_object *root = NULL, *report;
  enum json_tokener_error jerr;
  size_t len = strlen (json), i, j, found = 0;
  int r = -1;

  memset (rep, 0, sizeof *rep);
  if (split_fields (h, fields, rep) == -1)
    goto out;
  tok = json_tokener_new ();
  if (tok == NULL) {
    perrorf (h, "lvm report");
    goto out;
  }
  root = json_tokener_parse_ex (tok, json, len);
  jerr = json_tokener_get_error (tok);
  if (root == NULL || jerr != json_tokener_success) {
    error_errno (h, EPROTO, "lvm report: malformed JSON at byte %zu: %s",
                 json_tokener_get_parse_end (tok),
                 json_tokener_error_desc (jerr == json_tokener_success
                                          ? json_tokener_continue : jerr));
    json_tokener_free (tok);
    goto out;
  }
  /* Nothing but white space may follow the document. */
  for (i = json_tokener_get_parse_end (tok); i < len; ++i)
    if (!isspace ((unsigned char) json[i])) {
      error_errno (h, EPROTO, "lvm report: unexpected text after the JSON "
                   "document at byte %zu", i);
      json_tokener_free (tok);
      goto out;
    }
  json_tokener_free (tok);

  if (!json_object_is_type (root, json_type_object) ||
      !json_object_object_get_ex (root, "report", &report) ||
      !json_object_is_type (report, json_type_array)) {
    error_errno (h, EPROTO, "lvm report: no \"report\" array in lvm2's "
                 "output");
    goto out;
  }
  for (i = 0; i < json_object_array_length (report); ++i) {
    struct json_object *elem = json_object_array_get_idx (report, i), *rows;

    if (!json_object_is_type (elem, json_type_object) ||
        !json_object_object_get_ex (elem, section, &rows))
      continue;
    if (!json_object_is_type (rows, json_type_array)) {
      error_errno (h, EPROTO, "lvm report: ‘%s’ is not an array", section);
      goto out;
    }
    found++;
    for (j = 0; j < json_object_array_length (rows); ++j)
      if (add_row (h, rep, section,
                   json_object_array_get_idx (rows, j)) == -1)
        goto out;
  }
  if (found == 0) {
    error_errno (h, EPROTO, "lvm report: no ‘%s’ section in lvm2's output",
                 section);
    goto out;
  }
  r = 0;
 out:
  json_object_put (root);
  if (r == -1)
    lvm_report_free (rep);
  return r;
}

const char *
lvm_report_get (const struct lvm_report *rep, size_t row, const char *field)
{
  size_t i;

  if (row >= rep->nr_rows)
    return NULL;
  for (i = 0; i < rep->nr_fields; ++i)
    if (strcmp (rep->fields[i], field) == 0)
      return rep->values[row * rep->nr_fields + i];
  return NULL;
}

int
lvm_report_get_u64 (gk_h *h, const struct lvm_report *rep, size_t row,
                    const char *field, uint64_t *ret)
{
  const char *s = lvm_report_get (rep, row, field);
  char *end;

  if (s == NULL) {
    error_errno (h, EPROTO, "lvm report: no column ‘%s’", field);
    return -1;
  }
  if (*s == '\0') {
    *ret = 0;
    return 0;
  }
  errno = 0;
  *ret = strtoull (s, &end, 10);
  if (errno != 0 || *end != '\0' || !isdigit ((unsigned char) *s)) {
    error_errno (h, EPROTO, "lvm report: ‘%s’ is not a number of bytes "
                 "(column ‘%s’)", s, field);
    return -1;
  }
  return 0;
}

uint64_t
lvm_percent_of (const char *percent, uint64_t size)
{
  uint64_t whole = 0, hundredths;
  unsigned decimals = 0, ndec = 0;
  const char *p = percent;

  if (p == NULL || !isdigit ((unsigned char) *p))
    return 0;
  for (; isdigit ((unsigned char) *p); ++p) {
    whole = whole * 10 + (*p - '0');
    if (whole >= 100)
      return size;
  }
  if (*p == '.')
    for (++p; isdigit ((unsigned char) *p); ++p)
      if (ndec < 2) {           /* lvm2 prints two decimals */
        decimals = decimals * 10 + (*p - '0');
        ndec++;
      }
  if (*p != '\0')
    return 0;
  if (ndec == 1)
    decimals *= 10;
  hundredths = whole * 100 + decimals;
  return size / 10000 * hundredths + size % 10000 * hundredths / 10000;
}
