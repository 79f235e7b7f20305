/* Reference encoder driver for test/cases/size-updates.json (see gen-size-updates.py).
   Build: cc -O2 size-updates.c -o size-updates -lnghttp2 (Debian: libnghttp2-dev).
   Reads lines: "new S" | "size N" | "block name value name value ..." (non-empty tokens without spaces)
   and prints for each block: hex wire, then table size, max size and entry count. */
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
  char line[65536]; nghttp2_hd_deflater *d = NULL; static uint8_t buf[1<<16];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    char *tok = strtok(line, " ");
    if (!tok) continue;
    if (!strcmp(tok, "new")) { if (d) nghttp2_hd_deflate_del(d); nghttp2_hd_deflate_new(&d, (size_t)atol(strtok(NULL, " "))); }
    else if (!strcmp(tok, "size")) nghttp2_hd_deflate_change_table_size(d, (size_t)atol(strtok(NULL, " ")));
    else if (!strcmp(tok, "block")) {
      nghttp2_nv nva[256]; size_t n = 0; char *a;
      while ((a = strtok(NULL, " "))) { char *b = strtok(NULL, " "); nva[n].name=(uint8_t*)a; nva[n].namelen=strlen(a); nva[n].value=(uint8_t*)b; nva[n].valuelen=strlen(b); nva[n].flags=0; n++; }
      ssize_t rv = nghttp2_hd_deflate_hd(d, buf, sizeof buf, nva, n);
      for (ssize_t i = 0; i < rv; i++) printf("%02x", buf[i]);
      printf(" %zu %zu %zu\n", nghttp2_hd_deflate_get_dynamic_table_size(d), nghttp2_hd_deflate_get_max_dynamic_table_size(d), nghttp2_hd_deflate_get_num_table_entries(d) - 61);
    }
  }
  return 0;
}
