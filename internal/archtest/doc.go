// Package archtest holds tests that enforce the repository's architecture:
// which package may import which, and that every package documents what it
// owns. It has no code of its own.
package archtest
