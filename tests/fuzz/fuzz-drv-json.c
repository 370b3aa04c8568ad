/* libFuzzer target: arbitrary bytes as the derivation JSON that `cloister drv
 * add` reads. Beyond no crash and no leak (ASan, UBSan), it checks: a refusal
 * carries a message; what is accepted prints as JSON that reads back to the
 * same JSON; and a derivation that passes the path checks and gets its output
 * paths (as drv add does) prints a .drv that parses back to the same bytes. */
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

/* Every input derivation is this input-addressed one. */
static int const_load(void *userdata, const char *path, struct derivation *ret,
                      struct cl_error *err)
{
        static const char in[] =
            "Derive([(\"out\",\"/nix/store/mjs27ix6ig2bkbi3s3sm470vrv4lf7ic-hello\",\"\",\"\")],"
            "[],[],\"x86_64-linux\",\"/bin/sh\",[\"-c\",\"echo hi > $out\"],[(\"builder\","
            "\"/bin/sh\"),(\"name\",\"hello\"),(\"out\",\"/nix/store/"
            "mjs27ix6ig2bkbi3s3sm470vrv4lf7ic-hello\"),(\"system\",\"x86_64-linux\")])";
        (void)userdata;
        (void)path;
        return drv_parse(in, sizeof(in) - 1, ret, err);
}

/* The JSON of all items (bare ones under a made-up path) reads back to itself. */
static void json_round_trip(const struct drv_json_item *items, size_t n)
{
        _cleanup_free_ const char **paths = calloc(n, sizeof(*paths));
        _cleanup_free_ const struct derivation **drvs = calloc(n, sizeof(*drvs));
        if (!paths || !drvs)
                abort();
        for (size_t i = 0; i < n; i++) {
                paths[i] = items[i].path ? items[i].path : "bare";
                drvs[i] = &items[i].drv;
        }
        _cleanup_buf_ struct cl_buf j1 = CL_BUF_INIT;
        if (drv_json_print(paths, drvs, n, &j1) < 0)
                abort();
        struct drv_json_item *again = NULL;
        size_t n2 = 0;
        struct cl_error err = {0};
        if (drv_json_parse(j1.data, j1.len, &again, &n2, &err) < 0)
                abort();
        /* a path key named "outputs" reads back as a bare object: skip that */
        if (n2 == n) {
                for (size_t i = 0; i < n; i++) {
                        paths[i] = again[i].path ? again[i].path : "bare";
                        drvs[i] = &again[i].drv;
                }
                _cleanup_buf_ struct cl_buf j2 = CL_BUF_INIT;
                if (drv_json_print(paths, drvs, n, &j2) < 0)
                        abort();
                if (j1.len != j2.len || memcmp(j1.data, j2.data, j1.len) != 0)
                        abort();
        }
        drv_json_items_free(again, n2);
}

static void check_one(struct drv_json_item *it)
{
        struct cl_error err = {0};
        char name[STORE_NAME_MAX + 1];
        if (it->path) {
                if (drv_name_from_path(STORE, it->path, name, &err) < 0)
                        return;
        } else {
                snprintf(name, sizeof(name), "fuzz");
        }
        if (drv_check_paths(STORE, &it->drv, name, &err) < 0) {
                if (err.msg[0] == '\0')
                        abort();
                return;
        }
        struct drv_loader l = {.store_dir = STORE, .load = const_load};
        int r = drv_resolve_outputs(&l, &it->drv, name, &err);
        drv_loader_done(&l);
        if (r < 0) {
                if (err.msg[0] == '\0')
                        abort();
                return;
        }
        _cleanup_buf_ struct cl_buf aterm = CL_BUF_INIT;
        if (drv_print(&it->drv, &aterm) < 0)
                abort();
        _cleanup_drv_ struct derivation d = {0};
        if (drv_parse(aterm.data, aterm.len, &d, &err) < 0)
                abort();
        _cleanup_buf_ struct cl_buf again = CL_BUF_INIT;
        if (drv_print(&d, &again) < 0 || again.len != aterm.len ||
            memcmp(again.data, aterm.data, aterm.len) != 0)
                abort();
        struct store_path sp;
        (void)drv_store_path(STORE, &d, name, aterm.data, aterm.len, &sp, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct drv_json_item *items = NULL;
        size_t n = 0;
        struct cl_error err = {0};
        if (drv_json_parse((const char *)data, size, &items, &n, &err) < 0) {
                if (err.msg[0] == '\0')
                        abort();
                return 0;
        }
        json_round_trip(items, n);
        for (size_t i = 0; i < n; i++)
                check_one(&items[i]);
        drv_json_items_free(items, n);
        return 0;
}
