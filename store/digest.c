#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include "common/util.h"
#include "store/store.h"

struct store_hash {
        EVP_MD_CTX *sha256;
        EVP_MD_CTX *sha512;
};

int store_hash_new(store_hash **ret)
{
        store_hash *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->sha256 = EVP_MD_CTX_new();
        h->sha512 = EVP_MD_CTX_new();
        if (!h->sha256 || !h->sha512 || !EVP_DigestInit_ex(h->sha256, EVP_sha256(), NULL) ||
            !EVP_DigestInit_ex(h->sha512, EVP_sha512(), NULL)) {
                store_hash_free(h);
                return -ENOMEM;
        }
        *ret = h;
        return 0;
}

void store_hash_free(store_hash *h)
{
        if (!h)
                return;
        EVP_MD_CTX_free(h->sha256);
        EVP_MD_CTX_free(h->sha512);
        free(h);
}

int store_hash_update(store_hash *h, const void *buf, size_t n)
{
        if (!EVP_DigestUpdate(h->sha256, buf, n) || !EVP_DigestUpdate(h->sha512, buf, n))
                return -EIO;
        return 0;
}

static int peek_one(EVP_MD_CTX *ctx, char *out)
{
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        EVP_MD_CTX *copy = EVP_MD_CTX_new();
        if (!copy)
                return -ENOMEM;
        int ok = EVP_MD_CTX_copy_ex(copy, ctx) && EVP_DigestFinal_ex(copy, md, &len);
        EVP_MD_CTX_free(copy);
        if (!ok)
                return -EIO;
        hex_encode(md, len, out);
        return 0;
}

int store_hash_peek(store_hash *h, char sha256[STORE_SHA256_HEX + 1], char sha512[STORE_SHA512_HEX + 1])
{
        int r = 0;
        if (sha256)
                r = peek_one(h->sha256, sha256);
        if (r == 0 && sha512)
                r = peek_one(h->sha512, sha512);
        return r;
}

bool store_digest_valid(const char *sha256)
{
        return is_hex(sha256, STORE_SHA256_HEX);
}
