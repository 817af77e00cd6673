/*
 * Linked into the Linux Native AOT executable only (PeftOnnx.Cli.csproj, EdgePublish). Before the .NET runtime starts,
 * peftonnx re-executes itself once with glibc's malloc set up for transparent huge pages:
 *   glibc.malloc.hugetlb=1                  malloc advises MADV_HUGEPAGE on the memory it maps, 2 MiB at a time;
 *   glibc.malloc.mmap_threshold=33554432    blocks under 32 MiB come from that heap, not from a 4 KiB mapping each;
 *   glibc.malloc.arena_max=1                every thread allocates from that one heap (per-thread heaps grow in
 *                                           steps too small to be advised).
 * ONNX Runtime takes its memory from malloc: the int8 weights it pre-packs when the session starts (~22 MB in blocks
 * of 0.1-2 MB) and its arena for activations (hundreds of MB for a batch of long documents). In 4 KiB pages every first
 * touch is a page fault, costly under virtualization; in 2 MiB pages there are 512 times fewer. On the 2-core VM of
 * docs/PERFORMANCE.md ("Cold start") a cold start takes ~6,000 page faults instead of ~15,800 and 25 % less time, and
 * scoring a folder takes 20-40 % less time.
 * glibc reads its tunables only at process start, hence the re-exec (~3 ms).
 *
 * Left alone: tunables the user set (GLIBC_TUNABLES present, even empty: that is how to opt out), kernels whose huge
 * page is not 2 MiB (arm64 with 64 KiB pages has 512 MiB ones) or that have no transparent huge pages, and a failed
 * exec, after which the process runs on with glibc's defaults.
 *
 * No headers: the arm64 cross build compiles this without a target sysroot.
 */
typedef long ssize_type;
typedef unsigned long size_type;
extern char *getenv(const char *name);
extern int setenv(const char *name, const char *value, int overwrite);
extern int unsetenv(const char *name);
extern int open(const char *path, int flags, ...);
extern ssize_type read(int fd, void *buffer, size_type count);
extern int close(int fd);
extern ssize_type readlink(const char *path, char *buffer, size_type size);
extern int execv(const char *path, char *const argv[]);

static const char Variable[] = "GLIBC_TUNABLES";
static const char Tunables[] = "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.arena_max=1";

static int huge_page_is_2_mib(void)
{
    char text[32];
    int fd = open("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", 0 /* O_RDONLY */);
    if (fd < 0)
        return 0;
    ssize_type length = read(fd, text, sizeof text - 1);
    close(fd);
    if (length <= 0)
        return 0;
    text[length] = '\0';
    static const char Expected[] = "2097152\n";
    for (size_type i = 0; i < sizeof Expected; i++)
        if (text[i] != Expected[i])
            return 0;
    return 1;
}

/* glibc calls the executable's constructors with main's arguments. */
__attribute__((constructor)) static void peftonnx_hugepage_malloc(int argc, char **argv, char **envp)
{
    (void)argc;
    (void)envp;
    if (getenv(Variable) != 0 || !huge_page_is_2_mib())
        return;
    char self[4096];
    ssize_type length = readlink("/proc/self/exe", self, sizeof self - 1);
    if (length <= 0)
        return;
    self[length] = '\0';
    if (setenv(Variable, Tunables, 0) != 0)
        return;
    execv(self, argv);
    unsetenv(Variable); /* the exec failed: run on as started */
}
