// Command benchlisteners holds many loopback listeners in one process for
// scripts/bench-ports: it opens -tcp TCP listeners and -udp UDP sockets on
// 127.0.0.1, prints "ready PID" on standard output, and keeps them open until
// standard input reaches end of file.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
)

func main() {
	tcp := flag.Int("tcp", 5000, "TCP listeners to open")
	udp := flag.Int("udp", 500, "UDP sockets to bind")
	flag.Parse()
	var keep []io.Closer
	for i := 0; i < *tcp; i++ {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchlisteners: TCP listener %d: %v (raise ulimit -n)\n", i, err)
			os.Exit(1)
		}
		keep = append(keep, l)
	}
	for i := 0; i < *udp; i++ {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchlisteners: UDP socket %d: %v (raise ulimit -n)\n", i, err)
			os.Exit(1)
		}
		keep = append(keep, c)
	}
	fmt.Printf("ready %d\n", os.Getpid())
	io.Copy(io.Discard, os.Stdin)
	for _, c := range keep {
		c.Close()
	}
}
