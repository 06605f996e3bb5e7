#ifndef GUEST_STDDEF_H
#define GUEST_STDDEF_H
typedef __SIZE_TYPE__ size_t;
#define NULL           ((void *)0)
#define offsetof(t, m) __builtin_offsetof(t, m)
#endif
