// alloc-truth-cxx.cpp - C++ ground truth: make_widgets() news 25 Widgets (40 B) and deletes them,
// leak_arrays() leaks 3 int[10] arrays; the tracer must attribute them to these callers of new.
#include <cstdint>

struct Widget {
  std::uint64_t a[5];
};

static Widget *volatile wsink;
static int *volatile isink;

__attribute__((noinline)) static void make_widgets()
{
  Widget *w[25];
  for (int i = 0; i < 25; i++)
    w[i] = new Widget();
  wsink = w[3];
  for (int i = 0; i < 25; i++)
    delete w[i];
}

__attribute__((noinline)) static void leak_arrays()
{
  for (int i = 0; i < 3; i++)
    isink = new int[10];
}

int main()
{
  make_widgets();
  leak_arrays();
  return 0;
}
