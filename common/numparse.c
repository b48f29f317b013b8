#include "numparse.h"

#include <stdint.h>
#include <stdlib.h>

static const float pow10f[] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

float numparse_float(const char *s, char **end)
{
    const char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
        p++;
    int neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    uint32_t mant = 0;
    int sig = 0, exp10 = 0, digits = 0;
    for (; *p >= '0' && *p <= '9'; p++, digits++) {
        if (mant == 0 && *p == '0')
            continue; /* leading zeros are not significant */
        mant = mant * 10 + (uint32_t)(*p - '0');
        if (++sig > 7)
            return strtof(s, end);
    }
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
            exp10--;
            if (mant == 0 && *p == '0')
                continue;
            mant = mant * 10 + (uint32_t)(*p - '0');
            if (++sig > 7)
                return strtof(s, end);
        }
    }
    if (digits == 0 || *p == 'x' || *p == 'X')
        return strtof(s, end); /* "inf", "nan", hex, or no number at all */
    if (*p == 'e' || *p == 'E') {
        const char *q = p + 1;
        int eneg = *q == '-';
        if (*q == '-' || *q == '+')
            q++;
        if (!(*q >= '0' && *q <= '9'))
            return strtof(s, end); /* "1e" is "1" followed by text */
        int e = 0;
        for (; *q >= '0' && *q <= '9'; q++) {
            if (e > 100)
                return strtof(s, end);
            e = e * 10 + (*q - '0');
        }
        exp10 += eneg ? -e : e;
        p = q;
    }
    if (exp10 < -10 || exp10 > 10)
        return strtof(s, end);
    float v = (float)mant; /* exact: mant < 10^7 < 2^24 */
    v = exp10 < 0 ? v / pow10f[-exp10] : v * pow10f[exp10];
    *end = (char *)p;
    return neg ? -v : v;
}
