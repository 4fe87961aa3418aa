// Package browser tests the resiliencedebug page in a real browser.
package browser
