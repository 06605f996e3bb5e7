/* Freestanding stdint.h for test guests (the host's may pull in glibc's
 * 32-bit headers, which Debian installs only with gcc-multilib). */
#ifndef GUEST_STDINT_H
#define GUEST_STDINT_H
typedef signed char int8_t;
typedef unsigned char uint8_t;
typedef short int16_t;
typedef unsigned short uint16_t;
typedef int int32_t;
typedef unsigned int uint32_t;
typedef long long int64_t;
typedef unsigned long long uint64_t;
typedef __UINTPTR_TYPE__ uintptr_t;
typedef __INTPTR_TYPE__ intptr_t;
#endif
