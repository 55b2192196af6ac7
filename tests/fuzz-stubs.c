/* What lib/handle.c needs from the rest of the library, for the fuzz
 * targets built alone by tests/check-fuzz.sh (no appliance, no drives).
 */
#include <config.h>

#include "internal.h"

void
gk_int_appliance_free (gk_h *h)
{
}

void
gk_int_free_drive (struct drive *drv)
{
}

void
gk_int_mount_local_free (gk_h *h)
{
}

void
gk_int_files_native_free (gk_h *h)
{
}
