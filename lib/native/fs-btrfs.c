/* libguestkit native engine: btrfs usage as statvfs(2) reports it (fs.h).
 * Placeholder: always asks the appliance.
 */
#include <config.h>

#include "fs.h"

int
gk_native_btrfs_statvfs (gk_h *h, const struct gk_reader *r,
                        struct gk_statvfs *st, char **why_rtn)
{
  return gk_int_native_unsure (h, why_rtn, "%s: btrfs is not read natively yet",
                               r->name);
}

int
gk_native_btrfs_subvolumes (gk_h *h, const struct gk_reader *r,
                            char ***paths_rtn, char **why_rtn)
{
  return gk_int_native_unsure (h, why_rtn, "%s: btrfs is not read natively "
                               "yet", r->name);
}
