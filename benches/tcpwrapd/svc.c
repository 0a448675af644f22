/* svc: the service of benches/tcpwrapd/run.sh, the same program behind every
 * super-server: writes "ok\n" to the connection (descriptor 1) and exits. */
#include <unistd.h>

int main(void) {
    static const char msg[] = "ok\n";
    return write(1, msg, sizeof msg - 1) == (ssize_t)(sizeof msg - 1) ? 0 : 1;
}
