-- The frozen members of the static segments, as segment-warehouse-freeze wrote them.
with

members as (
    select * from {{ source('static_segments', 'static_segment_members') }}
),

final as (
    select
        members.static_segment,
        members.contact_id,
        members.frozen_on,
        members.source_segment_family,
        members.source_segment,
        members.frozen_at
    from members
)

select * from final
