/* guestkit: lvm2 reports (--reportformat json) as tables of strings.
 *
 * lvm2 prints {"report": [{"lv": [{"lv_name":"x", ...}, ...]}]}: one
 * object per section, each row an object of strings.  A report is parsed
 * into rows of the requested columns; a missing column, a value that is
 * not a string, or malformed JSON is an error naming what was wrong.
 */
#ifndef GUESTKIT_LVM_REPORT_H
#define GUESTKIT_LVM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "guestkit.h"

struct lvm_report {
  size_t nr_rows;
  size_t nr_fields;
  char **fields;                /* nr_fields column names */
  char **values;                /* nr_rows * nr_fields, row-major */
};

/* Parse json, keeping the columns named in fields (comma-separated, as
 * passed to -o) of the rows of section ("vg", "pv", "lv").  0, or -1 with
 * the handle's error set and *rep empty.  Free with lvm_report_free.
 */
extern int lvm_report_parse (gk_h *h, const char *json, const char *section,
                             const char *fields, struct lvm_report *rep);
extern void lvm_report_free (struct lvm_report *rep);

/* The value of a column in a row ("" for an empty value), or NULL if the
 * column was not requested.
 */
extern const char *lvm_report_get (const struct lvm_report *rep, size_t row,
                                   const char *field);
/* An unsigned number column (--units b --nosuffix): 0, or -1 with an error
 * naming the column and the value.  An empty value is 0.
 */
extern int lvm_report_get_u64 (gk_h *h, const struct lvm_report *rep,
                               size_t row, const char *field, uint64_t *ret);
/* data_percent ("12.34", "" for non-thin LVs) as bytes of size. */
extern uint64_t lvm_percent_of (const char *percent, uint64_t size);

#endif /* GUESTKIT_LVM_REPORT_H */
