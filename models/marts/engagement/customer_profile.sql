-- One row per contact: demographic and behavioural attributes (SPEC section 6).
-- Age in whole years at the as-of date; band from seed age_bands ('unknown' without a birth date,
-- under the first band, or an implausible one). Persona from seed personas: the first (lowest
-- priority number) whose age range contains the age (bounds inclusive) and, when it requires one,
-- whose city is in seed persona_cities. Distance to the nearest store of seed store_locations
-- (haversine), rounded to the metre; within radius when at most var store_radius_km. Behaviour
-- from the web events, carts and orders (see the intermediate models); funnel stage = the deepest
-- step reached within var funnel_window_days.
with

contacts as (
    select * from {{ ref('int_contacts_filtered_to_as_of') }}
),

web_activity as (
    select * from {{ ref('int_web_events_aggregated_to_contacts') }}
),

purchases as (
    select * from {{ ref('int_purchases_aggregated_to_contacts') }}
),

age_bands as (
    select * from {{ ref('age_bands') }}
),

personas as (
    select * from {{ ref('personas') }}
),

persona_cities as (
    select * from {{ ref('persona_cities') }}
),

store_locations as (
    select * from {{ ref('store_locations') }}
),

aged as (
    select
        contact_id,
        as_of_date,
        birth_date,
        city,
        region,
        country_code,
        country_name,
        days_since_last_order,
        case
            when latitude between -90 and 90 and longitude between -180 and 180 then latitude
        end as latitude,
        case
            when latitude between -90 and 90 and longitude between -180 and 180 then longitude
        end as longitude,
        case
            when birth_date <= as_of_date
                then
                    year(as_of_date) - year(birth_date)
                    - case
                        when
                            month(as_of_date) * 100 + day(as_of_date)
                            < month(birth_date) * 100 + day(birth_date)
                            then 1
                        else 0
                    end
        end as age_years
    from contacts
),

plausible as (
    select
        *,
        cast(case when age_years <= 120 then age_years end as integer) as age
    from aged
),

in_persona_city as (
    select distinct plausible.contact_id
    from plausible
    inner join persona_cities
        on
            lower(trim(plausible.city)) = lower(trim(persona_cities.city))
            and (
                persona_cities.country_code is null
                or upper(trim(persona_cities.country_code)) = plausible.country_code
            )
),

with_city_flag as (
    select
        plausible.*,
        in_persona_city.contact_id is not null as lives_in_persona_city
    from plausible
    left join in_persona_city
        on plausible.contact_id = in_persona_city.contact_id
),

banded as (
    select
        with_city_flag.contact_id,
        min(age_bands.age_band) as age_band
    from with_city_flag
    inner join age_bands
        on
            with_city_flag.age >= age_bands.min_age
            and (age_bands.max_age is null or with_city_flag.age <= age_bands.max_age)
    group by with_city_flag.contact_id
),

persona_matches as (
    select
        with_city_flag.contact_id,
        min_by(personas.persona, personas.priority) as persona
    from with_city_flag
    inner join personas
        on
            with_city_flag.age >= personas.min_age
            and (personas.max_age is null or with_city_flag.age <= personas.max_age)
            and (not personas.requires_persona_city or with_city_flag.lives_in_persona_city)
    group by with_city_flag.contact_id
),

nearest_stores as (
    select
        with_city_flag.contact_id,
        min({{ struct_of({
            'distance_km': haversine_km(
                'with_city_flag.latitude', 'with_city_flag.longitude',
                'store_locations.latitude', 'store_locations.longitude'
            ),
            'store_id': 'store_locations.store_id',
        }) }}) as nearest
    from with_city_flag
    cross join store_locations
    where
        with_city_flag.latitude is not null
        and store_locations.latitude is not null
        and store_locations.longitude is not null
    group by with_city_flag.contact_id
),

nearest_store_distances as (
    select
        contact_id,
        {{ struct_field('nearest', 'store_id') }} as nearest_store_id,
        cast(
            {{ round_double(struct_field('nearest', 'distance_km'), 3) }} as decimal(12, 3)
        ) as distance_to_store_km
    from nearest_stores
),

final as (
    select
        with_city_flag.contact_id,
        with_city_flag.as_of_date,
        with_city_flag.birth_date,
        with_city_flag.age,
        coalesce(banded.age_band, 'unknown') as age_band,
        persona_matches.persona,
        with_city_flag.country_code,
        with_city_flag.country_name,
        with_city_flag.region,
        with_city_flag.city,
        with_city_flag.lives_in_persona_city,
        nearest_store_distances.nearest_store_id,
        nearest_store_distances.distance_to_store_km,
        nearest_store_distances.distance_to_store_km
        <= cast({{ number_var('store_radius_km') }} as decimal(12, 3)) as is_within_store_radius,
        purchases.average_order_value,
        coalesce(web_activity.sessions_count, 0) as sessions_count,
        coalesce(web_activity.products_viewed_count, 0) as products_viewed_count,
        coalesce(web_activity.time_on_site_seconds, 0) as time_on_site_seconds,
        case
            when with_city_flag.days_since_last_order <= {{ int_var('funnel_window_days') }} then 'purchased'
            when web_activity.has_started_checkout then 'started_checkout'
            when web_activity.has_added_to_cart then 'added_to_cart'
            when web_activity.has_viewed_product then 'viewed_product'
            when web_activity.has_visited then 'visited'
        end as funnel_stage,
        purchases.favourite_category
    from with_city_flag
    left join banded
        on with_city_flag.contact_id = banded.contact_id
    left join persona_matches
        on with_city_flag.contact_id = persona_matches.contact_id
    left join nearest_store_distances
        on with_city_flag.contact_id = nearest_store_distances.contact_id
    left join web_activity
        on with_city_flag.contact_id = web_activity.contact_id
    left join purchases
        on with_city_flag.contact_id = purchases.contact_id
)

select * from final
