// Package resiliencegrpc runs resilience policies in gRPC interceptors.
package resiliencegrpc
