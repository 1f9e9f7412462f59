/* fx-time.c - integer-only UTC timestamp and price conversions (see fx-time.h). The civil
 * calendar conversion is the proleptic-Gregorian days-from-civil algorithm.
 */
#include "fx-time.h"

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, int n, int64_t *v)
{
  int64_t acc = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    acc = acc * 10 + (s[i] - '0');
  }
  *v = acc;
  return 0;
}

int fx_time_parse(const char *s, size_t n, fx_time *t)
{
  int64_t y, mo, d, h, mi, se;
  if (n != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
      s[19] != 'Z')
    return -1;
  if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
      digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
    return -1;
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59)
    return -1;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap)
    return -1;
  *t = days_from_civil(y, mo, d) * FX_DAY + h * 3600 + mi * 60 + se;
  return 0;
}

static void put2(char *o, int64_t v)
{
  o[0] = (char)('0' + v / 10);
  o[1] = (char)('0' + v % 10);
}

void fx_time_format(fx_time t, char out[21])
{
  int64_t days = t >= 0 ? t / FX_DAY : -((-t + FX_DAY - 1) / FX_DAY);
  int64_t sec = t - days * FX_DAY;
  int64_t y, m, d;
  civil_from_days(days, &y, &m, &d);
  if (y < 0 || y > 9999)
    y = y < 0 ? 0 : 9999;
  out[0] = (char)('0' + y / 1000);
  out[1] = (char)('0' + y / 100 % 10);
  out[2] = (char)('0' + y / 10 % 10);
  out[3] = (char)('0' + y % 10);
  out[4] = '-';
  put2(out + 5, m);
  out[7] = '-';
  put2(out + 8, d);
  out[10] = 'T';
  put2(out + 11, sec / 3600);
  out[13] = ':';
  put2(out + 14, sec / 60 % 60);
  out[16] = ':';
  put2(out + 17, sec % 60);
  out[19] = 'Z';
  out[20] = '\0';
}

int fx_price_parse(const char *s, size_t n, int64_t *cents)
{
  size_t i = 0;
  int64_t whole = 0;
  if (n == 0 || s[0] < '0' || s[0] > '9')
    return -1;
  while (i < n && s[i] >= '0' && s[i] <= '9') {
    if (whole > 10000000LL) /* 10 million currency units: sums stay far from overflow */
      return -1;
    whole = whole * 10 + (s[i++] - '0');
  }
  int64_t frac = 0;
  if (i < n) {
    if (s[i] != '.' || i + 1 >= n || n - i - 1 > 2)
      return -1;
    for (size_t k = i + 1; k < n; k++) {
      if (s[k] < '0' || s[k] > '9')
        return -1;
      frac = frac * 10 + (s[k] - '0');
    }
    if (n - i - 1 == 1)
      frac *= 10;
  }
  *cents = whole * 100 + frac;
  return 0;
}
