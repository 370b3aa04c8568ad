/* libFuzzer target: arbitrary bytes as a .drv. Beyond no crash and no leak
 * (ASan, UBSan), it checks the parser's contract: a refusal names a byte offset
 * within the input, and whatever is accepted prints back to the same bytes. An
 * accepted derivation also goes through the JSON form (printed JSON reads back
 * to the same JSON), the path checks, hash modulo and the .drv path. */
#include "base/base-buf.h"
#include "base/base-cleanup.h"
#include "store/store-drv-hash.h"
#include "store/store-drv-json.h"
#include "store/store-drv.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STORE "/nix/store"
#define DRV_PATH STORE "/7h7qgvs4kgzsn8a6rb273saxyqh4jxlz-fuzz.drv"

/* Every input derivation is this fixed-output one. */
static int const_load(void *userdata, const char *path, struct derivation *ret,
                      struct cl_error *err)
{
        static const char in[] =
            "Derive([(\"out\",\"/nix/store/i00sflxqsj37lfmf95m8mn0grv615hpj-source\",\"r:sha256\","
            "\"894517c9163c896ec31a2adbd33c0681fd5f45b2c0ef08a64c92a03fb97f390f\")],[],[],"
            "\"x86_64-linux\",\"/bin/first\",[],[(\"out\",\"/nix/store/"
            "i00sflxqsj37lfmf95m8mn0grv615hpj-source\")])";
        (void)userdata;
        (void)path;
        return drv_parse(in, sizeof(in) - 1, ret, err);
}

static bool has_high_byte(const uint8_t *data, size_t size)
{
        for (size_t i = 0; i < size; i++)
                if (data[i] >= 0x80)
                        return true;
        return false;
}

static void json_round_trip(const struct derivation *d, bool maybe_not_utf8)
{
        const char *path = DRV_PATH;
        _cleanup_buf_ struct cl_buf j1 = CL_BUF_INIT;
        if (drv_json_print(&path, &d, 1, &j1) < 0)
                abort();
        struct drv_json_item *items = NULL;
        size_t n = 0;
        struct cl_error err = {0};
        if (drv_json_parse(j1.data, j1.len, &items, &n, &err) < 0) {
                /* only bytes that are not UTF-8 make JSON that does not read back */
                if (!maybe_not_utf8)
                        abort();
                return;
        }
        if (n != 1 || !items[0].path || strcmp(items[0].path, path) != 0)
                abort();
        const struct derivation *d2 = &items[0].drv;
        _cleanup_buf_ struct cl_buf j2 = CL_BUF_INIT;
        if (drv_json_print(&path, &d2, 1, &j2) < 0)
                abort();
        if (j1.len != j2.len || memcmp(j1.data, j2.data, j1.len) != 0)
                abort();
        drv_json_items_free(items, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_drv_ struct derivation d = {0};
        struct cl_error err = {0};
        int r = drv_parse((const char *)data, size, &d, &err);
        if (r < 0) {
                unsigned long long off;
                if (r != -EINVAL || sscanf(err.msg, "offset %llu: ", &off) != 1 || off > size)
                        abort();
                return 0;
        }
        _cleanup_buf_ struct cl_buf again = CL_BUF_INIT;
        if (drv_print(&d, &again) < 0)
                abort();
        if (again.len != size || memcmp(again.data, data, size) != 0)
                abort();

        json_round_trip(&d, has_high_byte(data, size));

        struct store_path sp;
        if (drv_store_path(STORE, &d, "fuzz", again.data, again.len, &sp, &err) < 0)
                return 0;
        if (drv_check_paths(STORE, &d, "fuzz", &err) < 0) {
                if (err.msg[0] == '\0')
                        abort();
                return 0;
        }
        struct drv_loader l = {.store_dir = STORE, .load = const_load};
        struct hash hm;
        (void)drv_hash_modulo(&l, &d, "fuzz", true, &hm, &err);
        r = drv_resolve_outputs(&l, &d, "fuzz", &err);
        drv_loader_done(&l);
        if (r < 0) {
                if (err.msg[0] == '\0')
                        abort();
                return 0;
        }
        /* a derivation that passes every check prints a .drv that reads back */
        _cleanup_buf_ struct cl_buf resolved = CL_BUF_INIT;
        if (drv_print(&d, &resolved) < 0)
                abort();
        _cleanup_drv_ struct derivation d3 = {0};
        if (drv_parse(resolved.data, resolved.len, &d3, &err) < 0)
                abort();
        return 0;
}
