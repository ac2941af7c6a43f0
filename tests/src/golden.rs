//! Hand-built settlement lakes for the golden tests (owned by the settlement golden tests).
