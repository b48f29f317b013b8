/* numparse: decimal text to float for the data files the classifier loads
 * (hundreds of thousands of weights), as strtof would read it.
 *
 * A short number (at most seven significant digits, a power of ten of at
 * most 10^10 either way) is one exact integer times or divided by one exact
 * power of ten, a single correctly rounded operation, so its value is the
 * one strtof gives; everything else goes to strtof itself. */
#ifndef ATTUNE_NUMPARSE_H
#define ATTUNE_NUMPARSE_H

/* strtof's contract: leading white space skipped, *end after the number
 * (s when there is none), errno set only by strtof's own path. */
float numparse_float(const char *s, char **end);

#endif
