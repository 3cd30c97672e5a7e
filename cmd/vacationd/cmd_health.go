package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// healthCommand asks a running vacationd serve for /healthz: the check a
// container's HEALTHCHECK runs, since the image has no curl.
func healthCommand() command {
	return command{name: "health", usage: "exit 0 when a running serve's /healthz answers ok (container HEALTHCHECK)", run: runHealth}
}

func runHealth(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("health", flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := os.Getenv("VACATIOND_HTTP")
	if def == "" {
		def = ":8025"
	}
	addr := fs.String("http", def, "the serve's --http address (default $VACATIOND_HTTP, else :8025)")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "vacationd health: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	url, err := healthURL(*addr)
	if err != nil {
		fmt.Fprintf(stderr, "vacationd health: %v\n", err)
		return 2
	}
	cl := &http.Client{Timeout: *timeout, Transport: &http.Transport{Proxy: nil}}
	resp, err := cl.Get(url)
	if err != nil {
		fmt.Fprintf(stderr, "vacationd health: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	text := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "vacationd health: %s: %s %s\n", url, resp.Status, text)
		return 1
	}
	fmt.Fprintln(stdout, text)
	return 0
}

// healthURL turns an --http listen address into the /healthz URL: a
// wildcard host (":8025", "0.0.0.0:8025", "[::]:8025") is asked on loopback.
func healthURL(addr string) (string, error) {
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return strings.TrimRight(addr, "/") + "/healthz", nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--http %q: want HOST:PORT or a URL", addr)
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
