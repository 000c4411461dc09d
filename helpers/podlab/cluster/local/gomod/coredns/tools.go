//go:build tools

// Package tools pins CoreDNS so that `go build github.com/coredns/coredns`
// in this module uses the versions (and hashes) recorded in go.mod / go.sum.
package tools

import _ "github.com/coredns/coredns"
