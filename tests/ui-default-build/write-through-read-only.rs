use bamboost::h5::File;
use bamboost::mpi::CommSlot;

fn main() -> bamboost::Result<()> {
    let file = File::new("data.h5", CommSlot::new());
    let reader = file.open()?;
    // A read-only handle has no write methods.
    reader.root().set_attr("unit", "m")?;
    reader.root().create_group("mesh")?;
    reader.set_atomic(true)?;
    Ok(())
}
