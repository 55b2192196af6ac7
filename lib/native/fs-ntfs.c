/* libguestkit native engine: ntfs usage as statvfs(2) reports it (fs.h).
 * Placeholder: always asks the appliance.
 */
#include <config.h>

#include "fs.h"

int
gk_native_ntfs_statvfs (gk_h *h, const struct gk_reader *r,
                       struct gk_statvfs *st, char **why_rtn)
{
  return gk_int_native_unsure (h, why_rtn, "%s: ntfs is not read natively yet",
                               r->name);
}
