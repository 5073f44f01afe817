//! The single place where fkd-cli chooses a burn backend and device.

use anyhow::{Result, bail};
use burn::tensor::Device;

/// A device as named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSpec {
    /// The CPU: burn's flex backend when compiled in, else libtorch's CPU.
    Cpu,
    /// libtorch's CPU backend.
    TchCpu,
    /// libtorch on CUDA GPU `index` (0-based).
    Cuda(usize),
}

impl std::str::FromStr for DeviceSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "cpu" => Ok(Self::Cpu),
            "tch-cpu" => Ok(Self::TchCpu),
            "cuda" => Ok(Self::Cuda(0)),
            _ => match text.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(index)) => Ok(Self::Cuda(index)),
                _ => Err(format!(
                    "'{text}' is not a device; expected cpu, tch-cpu or cuda:N (0-based)"
                )),
            },
        }
    }
}

impl DeviceSpec {
    /// Resolves the tutorial's `--cuda --useDevice N` (1-based) against `--device`.
    pub fn resolve(device: Option<DeviceSpec>, cuda: bool, use_device: usize) -> Result<Self> {
        match (device, cuda) {
            (Some(device), false) => Ok(device),
            (None, false) => Ok(Self::Cpu),
            (None, true) => {
                if use_device == 0 {
                    bail!("--useDevice is 1-based: use 1 for the first GPU");
                }
                Ok(Self::Cuda(use_device - 1))
            }
            (Some(device), true) => {
                bail!("--cuda and --device {device:?} both choose a device; use only one")
            }
        }
    }

    /// Returns the burn device, or an error naming the build that provides it.
    pub fn device(&self) -> Result<Device> {
        match self {
            Self::Cpu => cpu_device(),
            Self::TchCpu => tch_device(None),
            Self::Cuda(index) => tch_device(Some(*index)),
        }
    }
}

#[cfg(feature = "flex")]
fn cpu_device() -> Result<Device> {
    Ok(Device::flex())
}

#[cfg(not(feature = "flex"))]
fn cpu_device() -> Result<Device> {
    tch_device(None)
}

// NOTE: burn 0.22 deprecates its libtorch backend in favour of CubeCL backends, but
// libtorch is the GPU path that installs from a package registry, so fkd keeps it.
#[cfg(feature = "tch")]
#[allow(deprecated)]
fn tch_device(cuda: Option<usize>) -> Result<Device> {
    Ok(match cuda {
        Some(index) => Device::libtorch_cuda(index),
        None => Device::libtorch(),
    })
}

#[cfg(not(feature = "tch"))]
fn tch_device(_cuda: Option<usize>) -> Result<Device> {
    bail!(
        "this fkd-cli was built without libtorch; for tch-cpu or CUDA devices run \
         `cargo xtask libtorch` (add --cuda for GPUs) and build with `--features tch`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse() {
        assert_eq!("cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!("cuda:1".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(1));
        assert_eq!("tch-cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::TchCpu);
        assert!(
            "gpu"
                .parse::<DeviceSpec>()
                .unwrap_err()
                .contains("expected cpu, tch-cpu or cuda:N")
        );
    }

    #[test]
    fn use_device_is_one_based() {
        assert_eq!(
            DeviceSpec::resolve(None, true, 2).unwrap(),
            DeviceSpec::Cuda(1)
        );
        assert!(DeviceSpec::resolve(None, true, 0).is_err());
        assert_eq!(
            DeviceSpec::resolve(None, false, 1).unwrap(),
            DeviceSpec::Cpu
        );
    }
}
