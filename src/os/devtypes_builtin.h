/*
 * devtypes_builtin: the device-type rules the project ships
 * (data/devtypes.txt), built into the program (tools/embed.py writes the
 * definitions at build time), so arphad identifies devices with no data
 * file installed. Hand the text to core/devtype's devtype_db_add_text;
 * [Neighbors] DeviceTypes= adds a file's rules after these.
 */
#ifndef ARPHA_OS_DEVTYPES_BUILTIN_H
#define ARPHA_OS_DEVTYPES_BUILTIN_H

#include <stddef.h>

/* The text of data/devtypes.txt, devtypes_builtin_len bytes (and a NUL after them). */
extern const char devtypes_builtin[];
extern const size_t devtypes_builtin_len;

#endif
