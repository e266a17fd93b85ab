#ifndef OSPREY_CZLIB_SHIM_H
#define OSPREY_CZLIB_SHIM_H
#include <zlib.h>
#endif
