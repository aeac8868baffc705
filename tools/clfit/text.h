/* Class names on the terminal: a name comes from a folder name and may
 * hold anything but '/' and NUL. */
#ifndef CLFIT_TOOL_TEXT_H
#define CLFIT_TOOL_TEXT_H

/* `name` on stdout with control characters (a newline would break the
 * line, an escape sequence would reach the terminal) shown as '?'; UTF-8
 * is kept. With width > 0 it fills a column of `width` characters (cut or
 * padded, counted by characters, not bytes; wide CJK characters still
 * take two cells). */
void print_name(const char *name, int width);

#endif
