//! Programs that embed the berth libraries (see the `[[example]]` targets of this package),
//! and `repo/`, the example repository.
