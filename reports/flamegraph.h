/* flamegraph.h - perfsweep's own interactive flame graph writer (self-contained SVG:
 * hover for name and share, click to zoom, search), from folded stacks ("a;b;c 42" lines).
 */
#ifndef PERFSWEEP_FLAMEGRAPH_H
#define PERFSWEEP_FLAMEGRAPH_H

struct flame_opts {
  const char *title;   /* shown atop the graph; escaped */
  const char *unit;    /* "samples", "bytes", "calls" */
  int width;           /* pixels; 0 = 1200 */
};

/* Writes an SVG flame graph of the folded stacks in folded_path. Returns 0 or negative errno
 * (-EINVAL for a malformed folded file). */
int flamegraph_write_svg(const char *folded_path, const char *svg_path, const struct flame_opts *o);

/* Differential flame graph: shape of new_folded, coloured red where a frame grew against
 * base_folded and blue where it shrank. Returns 0 or negative errno. */
int flamegraph_write_diff_svg(const char *base_folded, const char *new_folded,
                              const char *svg_path, const struct flame_opts *o);

#endif
