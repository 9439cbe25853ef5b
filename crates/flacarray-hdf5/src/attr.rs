//! Reading the small scalar attributes of a flacarray group, whatever HDF5 type they
//! were written with.

use hdf5::Location;
use hdf5::types::{FixedAscii, FixedUnicode, TypeDescriptor, VarLenAscii, VarLenUnicode};

use crate::error::{Ctx, H5At, Result};

/// Longest fixed-length string read from an attribute (longer ones are truncated by
/// HDF5's string conversion; version strings are a few bytes).
const FIXED_STRING_MAX: usize = 256;

/// The value of a scalar integer or string attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scalar {
    Int(i64),
    Str(String),
}

impl Scalar {
    /// The value as an integer: the integer itself, or a string holding one.
    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Self::Int(v) => Some(*v),
            Self::Str(s) => s.trim().parse().ok(),
        }
    }

    /// The value as text.
    pub(crate) fn to_text(&self) -> String {
        match self {
            Self::Int(v) => v.to_string(),
            Self::Str(s) => s.clone(),
        }
    }
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Int(v) => write!(f, "{v}"),
            Self::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// Whether `loc` has an attribute `name`.
pub(crate) fn has_attr(loc: &Location, ctx: &Ctx, label: &str, name: &str) -> Result<bool> {
    let names = loc
        .attr_names()
        .map_err(ctx.h5(label, "listing attributes"))?;
    Ok(names.iter().any(|n| n == name))
}

/// Reads a scalar integer or string attribute; `None` when it does not exist.
/// `label` names the attribute in errors (e.g. `attribute flac_channels`).
pub(crate) fn read_scalar(
    loc: &Location,
    ctx: &Ctx,
    label: &str,
    name: &str,
) -> Result<Option<Scalar>> {
    if !has_attr(loc, ctx, label, name)? {
        return Ok(None);
    }
    let attr = loc.attr(name).map_err(ctx.h5(label, "opening"))?;
    let shape = attr
        .get_shape()
        .map_err(ctx.h5(label, "reading the shape"))?;
    if !shape.is_empty() {
        return Err(ctx
            .corrupt(label, format!("must be a scalar, found shape {shape:?}"))
            .into());
    }
    let desc = attr
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(ctx.h5(label, "reading the type"))?;
    let h5 = || ctx.h5(label, "reading");
    let value = match desc {
        TypeDescriptor::Integer(_) | TypeDescriptor::Unsigned(_) | TypeDescriptor::Boolean => {
            Scalar::Int(attr.read_scalar::<i64>().map_err(h5())?)
        }
        TypeDescriptor::VarLenUnicode => Scalar::Str(
            attr.read_scalar::<VarLenUnicode>()
                .map_err(h5())?
                .as_str()
                .to_owned(),
        ),
        TypeDescriptor::VarLenAscii => Scalar::Str(
            attr.read_scalar::<VarLenAscii>()
                .map_err(h5())?
                .as_str()
                .to_owned(),
        ),
        TypeDescriptor::FixedAscii(_) => Scalar::Str(
            attr.read_scalar::<FixedAscii<FIXED_STRING_MAX>>()
                .map_err(h5())?
                .as_str()
                .to_owned(),
        ),
        TypeDescriptor::FixedUnicode(_) => Scalar::Str(
            attr.read_scalar::<FixedUnicode<FIXED_STRING_MAX>>()
                .map_err(h5())?
                .as_str()
                .to_owned(),
        ),
        other => {
            return Err(ctx
                .corrupt(
                    label,
                    format!("must be an integer or a string, found HDF5 type {other}"),
                )
                .into());
        }
    };
    Ok(Some(value))
}
