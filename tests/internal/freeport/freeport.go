// Package freeport finds free TCP ports on 127.0.0.1 for roots that take fixed host ports.
package freeport

import (
	"net"
	"testing"
)

// Ports returns n distinct ports that were free a moment ago on 127.0.0.1: all n listeners
// are open at once, so no two are the same.
func Ports(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
