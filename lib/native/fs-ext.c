/* libguestkit native engine: ext usage as statvfs(2) reports it (fs.h).
 * Placeholder: always asks the appliance.
 */
#include <config.h>

#include "fs.h"

int
gk_native_ext_statvfs (gk_h *h, const struct gk_reader *r,
                      struct gk_statvfs *st, char **why_rtn)
{
  return gk_int_native_unsure (h, why_rtn, "%s: ext is not read natively yet",
                               r->name);
}
