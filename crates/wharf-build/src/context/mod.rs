//! The build context: a directory (or a tar turned into one) filtered by `.dockerignore`.
