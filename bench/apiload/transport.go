package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// leanTransport is the driver's HTTP/1.1 client transport: keep-alive connections, each request written and its
// response read on the caller's goroutine. net/http's Transport gives every connection a reader and a writer
// goroutine and hands each request and response between them and the caller; at 1,000 flows/s that machinery cost
// the driver about a tenth of the two cores that the service is measured on, and a driver should take as little of
// them as it can (in production the integrators' clients are on other machines). The requests are the same
// HTTP/1.1 requests as net/http's (http.Request.Write) and the responses are read by http.ReadResponse, so the
// service sees nothing different; -http-client std uses net/http's Transport instead.
type leanTransport struct {
	dialer  net.Dialer
	maxIdle int // per host

	mu   sync.Mutex
	idle map[string][]*leanConn
}

type leanConn struct {
	c  net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

func newLeanTransport(maxIdle int) *leanTransport {
	return &leanTransport{dialer: net.Dialer{Timeout: 5 * time.Second}, maxIdle: maxIdle, idle: map[string][]*leanConn{}}
}

// RoundTrip sends req on an idle connection to its host (or a new one) and reads the response head; the
// connection goes back to the pool when the body has been read to its end and closed.
func (t *leanTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "http" {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("apiload: the lean transport speaks plain HTTP only")
	}
	host := req.URL.Host
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		lc, reused, err := t.get(ctx, host)
		if err != nil {
			return nil, err
		}
		// a request cancelled meanwhile closes the connection, which ends the read or write under way
		stop := context.AfterFunc(ctx, func() { lc.c.Close() })
		resp, err := lc.roundTrip(req)
		if err != nil {
			stop()
			lc.c.Close()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			// a kept-alive connection the server closed meanwhile: once more on a new one, if the request can be
			// sent again (a body that was read already cannot)
			if reused && attempt == 0 && (req.Body == nil || req.GetBody != nil) {
				if req.GetBody != nil {
					if req.Body, err = req.GetBody(); err != nil {
						return nil, err
					}
				}
				continue
			}
			return nil, err
		}
		resp.Body = &leanBody{ReadCloser: resp.Body, t: t, lc: lc, host: host, stop: stop, keep: !resp.Close}
		return resp, nil
	}
}

func (lc *leanConn) roundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Write(lc.bw); err != nil {
		return nil, err
	}
	if err := lc.bw.Flush(); err != nil {
		return nil, err
	}
	return http.ReadResponse(lc.br, req)
}

// get takes an idle connection to host, or dials one.
func (t *leanTransport) get(ctx context.Context, host string) (*leanConn, bool, error) {
	t.mu.Lock()
	if l := t.idle[host]; len(l) > 0 {
		lc := l[len(l)-1]
		t.idle[host] = l[:len(l)-1]
		t.mu.Unlock()
		return lc, true, nil
	}
	t.mu.Unlock()
	c, err := t.dialer.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, false, err
	}
	return &leanConn{c: c, br: bufio.NewReaderSize(c, 16<<10), bw: bufio.NewWriterSize(c, 16<<10)}, false, nil
}

func (t *leanTransport) put(host string, lc *leanConn) {
	t.mu.Lock()
	if len(t.idle[host]) < t.maxIdle {
		t.idle[host] = append(t.idle[host], lc)
		lc = nil
	}
	t.mu.Unlock()
	if lc != nil {
		lc.c.Close()
	}
}

// CloseIdleConnections closes the pooled connections.
func (t *leanTransport) CloseIdleConnections() {
	t.mu.Lock()
	idle := t.idle
	t.idle = map[string][]*leanConn{}
	t.mu.Unlock()
	for _, l := range idle {
		for _, lc := range l {
			lc.c.Close()
		}
	}
}

// leanBody returns its connection to the pool once read to the end and closed (closed early, it closes it: what
// is left of the response would be read as the next one).
type leanBody struct {
	io.ReadCloser
	t      *leanTransport
	lc     *leanConn
	host   string
	stop   func() bool
	keep   bool
	eof    bool
	closed bool
}

func (b *leanBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *leanBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	err := b.ReadCloser.Close()
	if !b.stop() { // the request was cancelled: the connection is closed
		return err
	}
	if b.eof && b.keep && err == nil {
		b.t.put(b.host, b.lc)
	} else {
		b.lc.c.Close()
	}
	return err
}
