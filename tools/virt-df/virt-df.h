/* virt-df: shared between main.c (options) and output.c (formatting). */
#ifndef VIRT_DF_H
#define VIRT_DF_H

#include <stdio.h>
#include "guestkit.h"

enum output_mode { OUTPUT_TEXT, OUTPUT_CSV, OUTPUT_JSON };

extern enum output_mode output_mode;  /* --csv, --json */
extern int human;                     /* -h */
extern int inodes;                    /* -i */
extern int uuid;                      /* --uuid */
extern int verbose;                   /* -v */

extern void print_title (void);
extern void print_end (void);
/* Print the rows of one guest.  uuid_str may be NULL. */
extern void print_usage (const char *name, const char *uuid_str,
                         const struct gk_fs_usage *usage, size_t n);

#endif /* VIRT_DF_H */
