package testenv

// RootServiceCaps exposes rootServiceCaps to the measuring test.
var RootServiceCaps = rootServiceCaps
