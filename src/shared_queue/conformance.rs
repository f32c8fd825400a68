//! The public conformance suite for [`SharedQueue`](super::SharedQueue)
//! implementations (feature `testing`). (Being written.)
