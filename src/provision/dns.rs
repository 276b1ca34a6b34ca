//! Placeholder until this resource is implemented; reconciles nothing.

use super::{Ctx, Known, Plan};
use crate::error::Result;

pub async fn reconcile(_ctx: &Ctx<'_>, _known: &Known, _plan: &mut Plan) -> Result<()> {
    Ok(())
}

pub async fn destroy(_ctx: &Ctx<'_>, _plan: &mut Plan) -> Result<()> {
    Ok(())
}
