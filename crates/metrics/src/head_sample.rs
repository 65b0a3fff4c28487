//! How the head holds one unflushed sample, and how a flush encodes a run of them.

use crate::model::{Sample, SampleValue};
use watchtrail_core::Timestamp;

/// One sample waiting in the head: 24 bytes (a [`Sample`] is 56), so a write builds, the
/// log's writer thread appends, a flush moves and a read of the head scans less than half
/// the memory. Single values, nearly every sample, are held as they are; anything else is
/// boxed. The LSN of the log record a sample came in is kept per run of samples
/// ([`crate::partition::LsnRun`]), not per sample.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum HeadSample {
    /// A single value.
    Single { ts: Timestamp, value: f64, resolution: u8 },
    /// A statistic set, a distribution or a rolled-up step.
    Other(Box<Sample>),
}

impl HeadSample {
    pub(crate) fn new(sample: Sample) -> Self {
        match sample.value {
            SampleValue::Single(value) => HeadSample::Single { ts: sample.ts, value, resolution: sample.resolution },
            _ => HeadSample::Other(Box::new(sample)),
        }
    }

    pub(crate) fn ts(&self) -> Timestamp {
        match self {
            HeadSample::Single { ts, .. } => *ts,
            HeadSample::Other(sample) => sample.ts,
        }
    }

    /// Calls `f` with the sample.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&Sample) -> R) -> R {
        match self {
            HeadSample::Single { ts, value, resolution } => f(&Sample { ts: *ts, resolution: *resolution, value: SampleValue::Single(*value) }),
            HeadSample::Other(sample) => f(sample),
        }
    }

    /// The sample.
    pub(crate) fn to_sample(&self) -> Sample {
        self.with(Sample::clone)
    }
}

/// Samples as the head holds them.
pub(crate) fn head_samples(samples: Vec<Sample>) -> Vec<HeadSample> {
    samples.into_iter().map(HeadSample::new).collect()
}

/// Encodes one chunk of a series' head samples (in time order): single values at one
/// resolution straight from the head, anything else through [`Sample`]s.
pub(crate) fn encode_chunk(run: &[HeadSample], ts: &mut Vec<i64>, values: &mut Vec<f64>) -> Vec<u8> {
    let resolution = match run.first() {
        Some(HeadSample::Single { resolution, .. }) => *resolution,
        _ => 0,
    };
    ts.clear();
    values.clear();
    for s in run {
        match s {
            HeadSample::Single { ts: t, value, resolution: r } if *r == resolution => {
                ts.push(t.millis());
                values.push(*value);
            }
            _ => {
                let samples: Vec<Sample> = run.iter().map(HeadSample::to_sample).collect();
                return crate::chunk::encode(&samples);
            }
        }
    }
    crate::chunk::encode_singles(resolution, ts, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_part::tests::arb_value;
    use proptest::prelude::*;

    #[test]
    fn a_head_sample_is_under_half_a_sample() {
        assert_eq!(std::mem::size_of::<HeadSample>(), 24);
        assert_eq!(std::mem::size_of::<Sample>(), 56);
    }

    proptest! {
        /// A head chunk encodes exactly as its samples do, and reads back as them.
        #[test]
        fn head_chunks_encode_as_their_samples(raw in proptest::collection::vec((0i64..1_000_000, arb_value(), prop_oneof![Just(1u8), Just(60u8)]), 1..40)) {
            let mut samples: Vec<Sample> = raw.into_iter().map(|(t, value, resolution)| Sample { ts: Timestamp(t), resolution, value }).collect();
            samples.sort_by_key(|s| s.ts);
            let head = head_samples(samples.clone());
            prop_assert_eq!(head.iter().map(HeadSample::to_sample).collect::<Vec<_>>(), samples.clone());
            let bytes = encode_chunk(&head, &mut Vec::new(), &mut Vec::new());
            prop_assert_eq!(&bytes, &crate::chunk::encode(&samples));
        }

    }
}
