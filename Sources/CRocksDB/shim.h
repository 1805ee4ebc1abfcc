#ifndef CAIRN_CROCKSDB_SHIM_H
#define CAIRN_CROCKSDB_SHIM_H
#include <rocksdb/c.h>
#endif
